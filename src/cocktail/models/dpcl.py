"""Deep clustering (Hershey, Chen, Le Roux, Watanabe, ICASSP 2016).

A BLSTM maps each time-frequency bin to a unit-length D-dimensional embedding, trained so
that bins dominated by the same speaker point the same way (low-rank affinity loss, silent
bins weighted out). At inference, k-means with k = number of sources (or mean-shift, which
needs no k) on the active bins' embeddings gives binary masks; nothing ties an output to a
speaker, so there is no permutation problem and a net trained on two speakers can be asked
for three. Reference ("paper") settings: 2 BLSTM layers of 600 per direction (the later
recipe: 4 of 300), D = 40, tanh, unit length per bin."""

import keras
import numpy as np
from keras import layers

from cocktail.dsp.masks import nearest_centre
from cocktail.models.base import CLUSTERING, EMBEDDING_NETWORK_PARAMS, EMBEDDING_NETWORK_TINY, Architecture, embedding_pairs
from cocktail.models.layers import blstm_stack, per_bin_head
from cocktail.models.losses import deep_clustering_loss


def embedding_network(section, n_bins: int, name: str) -> keras.Model:
    """BLSTM stack to a tanh embedding per bin, unit length: the deep-clustering network."""
    inputs = keras.Input((None, n_bins), name="log_magnitude")
    hidden = blstm_stack(inputs, int(section["hidden"]), int(section["layers"]), float(section["dropout"]))
    embeddings = per_bin_head(hidden, n_bins, int(section["embedding_dim"]), "tanh")
    embeddings = layers.UnitNormalization(axis=-1)(embeddings)
    return keras.Model(inputs, embeddings, name=name)


def nearest_centre_masks(embeddings: np.ndarray, centres: np.ndarray, section=None) -> np.ndarray:
    """Binary masks: every bin joins the cluster whose centre is nearest."""
    return (nearest_centre(embeddings, centres)[None] == np.arange(len(centres))[:, None]).astype(np.float32)


ARCHITECTURE = Architecture(
    name="dpcl",
    inference=CLUSTERING,
    params=EMBEDDING_NETWORK_PARAMS,
    reference={"hidden": 300, "layers": 4, "embedding_dim": 40},
    tiny=EMBEDDING_NETWORK_TINY,
    build=lambda section, n_bins, n_sources: embedding_network(section, n_bins, "dpcl"),
    loss=lambda section: deep_clustering_loss,
    training_pairs=embedding_pairs,
    embedding_masks=nearest_centre_masks,
)
