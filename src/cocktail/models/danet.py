"""Deep attractor network (Chen, Luo, Mesgarani, ICASSP 2017).

A BLSTM maps every time-frequency bin to a D-dimensional embedding. While training, each
source's attractor is the mean embedding of the active bins it dominates (from the ideal
mask); a bin's mask for source c is the softmax over sources (or a sigmoid, `mask_activation`)
of its similarity to attractor c, and the loss is the error of the masked mixture magnitude
against each source's magnitude. At inference the attractors are the k-means (or mean-shift)
centres of the active bins' embeddings, so the masks are soft and the number of sources is
chosen at inference. Reference ("paper") settings: 4 BLSTM layers of 300 per direction,
D = 20, softmax masks."""

import keras
import numpy as np
from keras import ops

from cocktail.constants import EPS
from cocktail.models.base import CLUSTERING, EMBEDDING_NETWORK_PARAMS, EMBEDDING_NETWORK_TINY, Architecture, attractor_pairs
from cocktail.models.layers import blstm_stack, per_bin_head
from cocktail.params import checked_choice

MASK_ACTIVATIONS = ("softmax", "sigmoid")


def mask_activation(section) -> str:
    return checked_choice("danet.mask_activation", section["mask_activation"], MASK_ACTIVATIONS)


def attractors(embeddings, weights):
    """DANet's A_c = Σ V·Y_c / Σ Y_c: (batch, bins, D) embeddings, (batch, bins, C) weights -> (batch, C, D)."""
    totals = ops.expand_dims(ops.sum(weights, axis=1), -1)
    return ops.matmul(ops.transpose(weights, (0, 2, 1)), embeddings) / ops.maximum(totals, EPS)


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


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    mask_activation(section)
    inputs = keras.Input((None, n_bins), name="log_magnitude")
    hidden = blstm_stack(inputs, int(section["hidden"]), int(section["layers"]), float(section["dropout"]))
    embeddings = per_bin_head(hidden, n_bins, int(section["embedding_dim"]), None)
    return keras.Model(inputs, embeddings, name="danet")


def masks_from_centres(embeddings: np.ndarray, centres: np.ndarray, section) -> np.ndarray:
    """(N, D) embeddings and (C, D) clustering centres as attractors -> (C, N) soft masks."""
    masks = attractor_masks(embeddings[None].astype(np.float32), centres[None].astype(np.float32), mask_activation(section))
    return np.moveaxis(ops.convert_to_numpy(masks)[0], -1, 0)


ARCHITECTURE = Architecture(
    name="danet",
    inference=CLUSTERING,
    params={**EMBEDDING_NETWORK_PARAMS, "mask_activation": None},
    reference={"hidden": 300, "layers": 4, "embedding_dim": 20, "mask_activation": "softmax"},
    tiny={**EMBEDDING_NETWORK_TINY, "mask_activation": "softmax"},
    build=build,
    loss=lambda section: danet_loss(mask_activation(section)),
    training_pairs=attractor_pairs,
    embedding_masks=masks_from_centres,
)
