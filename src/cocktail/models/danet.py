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

from cocktail.errors import CocktailError
from cocktail.losses import attractor_masks, danet_loss
from cocktail.models.base import CLUSTERING, Architecture, attractor_pairs
from cocktail.models.layers import blstm_stack, per_bin_head

MASK_ACTIVATIONS = ("softmax", "sigmoid")


def mask_activation(section) -> str:
    if section["mask_activation"] not in MASK_ACTIVATIONS:
        raise CocktailError(f"params key 'danet.mask_activation' is '{section['mask_activation']}': use 'softmax' or 'sigmoid'.")
    return section["mask_activation"]


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
    params=("hidden", "layers", "dropout", "embedding_dim", "mask_activation"),
    reference={"hidden": 300, "layers": 4, "embedding_dim": 20, "mask_activation": "softmax"},
    tiny={"hidden": 8, "layers": 1, "dropout": 0.0, "embedding_dim": 4, "mask_activation": "softmax"},
    build=build,
    loss=lambda section: danet_loss(mask_activation(section)),
    training_pairs=attractor_pairs,
    embedding_masks=masks_from_centres,
)
