"""Training losses shared by several architectures: mask MSE with fixed or permutation-invariant order, the low-rank
deep-clustering loss, and utterance-level PIT on negative SI-SNR (DANet's own loss lives with DANet, models/danet.py).
Shapes are channel-last: (batch, frames, bins, sources)."""

from keras import ops

from cocktail.scoring.metrics import per_order_means, si_snr


def mask_mse_fixed(ibm, masks):
    """The reference setup: output c is trained on the IBM of the c-th listed source."""
    return ops.mean((masks - ops.cast(ibm, masks.dtype)) ** 2, axis=(1, 2, 3))


def mask_mse_pit(ibm, masks):
    """Permutation-invariant training: per chunk, the source order with the lowest MSE."""
    ibm = ops.cast(ibm, masks.dtype)
    pair = ops.mean((ops.expand_dims(masks, -1) - ops.expand_dims(ibm, -2)) ** 2, axis=(1, 2))  # (batch, mask, source)
    return ops.min(per_order_means(pair, masks.shape[-1]), axis=-1)


def deep_clustering_loss(targets, embeddings):
    """‖VVᵀ − YYᵀ‖²_F in its low-rank form ‖VᵀV‖² − 2‖VᵀY‖² + ‖YᵀY‖², silent bins weighted out.

    `targets` packs the IBM (C channels) and the voice-activity weight (last channel); the
    full affinity matrix of a 100-frame chunk would have (100·129)² entries."""
    batch = ops.shape(embeddings)[0]
    dim = embeddings.shape[-1]
    n_sources = targets.shape[-1] - 1
    targets = ops.cast(targets, embeddings.dtype)
    weight = ops.reshape(targets[..., -1:], (batch, -1, 1))
    v = ops.reshape(embeddings, (batch, -1, dim)) * weight
    y = ops.reshape(targets[..., :n_sources], (batch, -1, n_sources)) * weight
    vtv = ops.matmul(ops.transpose(v, (0, 2, 1)), v)
    vty = ops.matmul(ops.transpose(v, (0, 2, 1)), y)
    yty = ops.matmul(ops.transpose(y, (0, 2, 1)), y)
    loss = ops.sum(vtv**2, axis=(1, 2)) - 2 * ops.sum(vty**2, axis=(1, 2)) + ops.sum(yty**2, axis=(1, 2))
    active = ops.sum(weight, axis=(1, 2))
    return loss / ops.maximum(active**2, 1.0)


def negative_si_snr_upit(sources, estimates):
    """Utterance-level PIT: the source order with the highest mean SI-SNR over the whole segment."""
    pair = si_snr(ops.expand_dims(estimates, 2), ops.expand_dims(sources, 1))  # (batch, estimate, reference)
    return -ops.max(per_order_means(pair, estimates.shape[1]), axis=-1)
