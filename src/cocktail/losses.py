"""Training losses: mask MSE with fixed or permutation-invariant order, the low-rank deep-clustering
loss, and utterance-level PIT on negative SI-SNR. Shapes are channel-last: (batch, frames, bins, sources)."""

from keras import ops

from cocktail.metrics import si_snr, source_permutations


def mask_mse_fixed(ibm, masks):
    """The reference setup: output c is trained on the IBM of the c-th listed source."""
    return ops.mean((masks - ops.cast(ibm, masks.dtype)) ** 2, axis=(1, 2, 3))


def mask_mse_pit(ibm, masks):
    """Permutation-invariant training: per chunk, the source order with the lowest MSE."""
    ibm = ops.cast(ibm, masks.dtype)
    n_sources = masks.shape[-1]
    per_order = [
        ops.mean((ops.take(masks, list(perm), axis=-1) - ibm) ** 2, axis=(1, 2, 3)) for perm in source_permutations(n_sources)
    ]
    return ops.min(ops.stack(per_order, axis=-1), axis=-1)


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
    n_sources = estimates.shape[1]
    pair = si_snr(ops.expand_dims(estimates, 2), ops.expand_dims(sources, 1))  # (batch, estimate, reference)
    per_order = [
        sum(pair[:, perm[r], r] for r in range(n_sources)) / n_sources for perm in source_permutations(n_sources)
    ]
    return -ops.max(ops.stack(per_order, axis=-1), axis=-1)


def attractors(embeddings, weights):
    """DANet's A_c = Σ V·Y_c / Σ Y_c: (batch, bins, D) embeddings, (batch, bins, C) weights -> (batch, C, D)."""
    totals = ops.expand_dims(ops.sum(weights, axis=1), -1)
    return ops.matmul(ops.transpose(weights, (0, 2, 1)), embeddings) / ops.maximum(totals, 1e-8)


def attractor_masks(embeddings, centres, activation: str):
    """M_c = softmax over c (or sigmoid) of A_c·V: (batch, bins, D), (batch, C, D) -> (batch, bins, C)."""
    logits = ops.matmul(embeddings, ops.transpose(centres, (0, 2, 1)))
    return ops.softmax(logits, axis=-1) if activation == "softmax" else ops.sigmoid(logits)


def danet_loss(activation: str):
    """Σ_c ‖S_c − X ⊙ M_c‖² / (F·T) with attractors from the ideal mask on active bins.

    `targets` packs IBM (C), voice activity (1), mixture magnitude (1) and source magnitudes (C);
    the attractors come from the true assignment, so output c is source c: no permutation."""

    def loss(targets, embeddings):
        batch = ops.shape(embeddings)[0]
        dim = embeddings.shape[-1]
        n_sources = (targets.shape[-1] - 2) // 2
        targets = ops.reshape(ops.cast(targets, embeddings.dtype), (batch, -1, 2 * n_sources + 2))
        v = ops.reshape(embeddings, (batch, -1, dim))
        ibm, active = targets[..., :n_sources], targets[..., n_sources : n_sources + 1]
        mixture, sources = targets[..., n_sources + 1 : n_sources + 2], targets[..., n_sources + 2 :]
        masks = attractor_masks(v, attractors(v, ibm * active), activation)
        return ops.mean(ops.sum((sources - mixture * masks) ** 2, axis=-1), axis=1)

    return loss
