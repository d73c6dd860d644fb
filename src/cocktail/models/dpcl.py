"""Deep clustering (Hershey, Chen, Le Roux, Watanabe, ICASSP 2016).

A BLSTM maps each time-frequency bin to a unit-length D-dimensional embedding, trained so
that bins dominated by the same speaker point the same way (low-rank affinity loss, silent
bins weighted out). At inference, k-means with k = number of sources on the active bins'
embeddings gives binary masks; nothing ties an output to a speaker, so there is no
permutation problem. Reference ("paper") settings: 2 BLSTM layers of 600 per direction
(the later recipe: 4 of 300), D = 40, tanh, unit length per bin."""

import keras
from keras import layers

from cocktail.losses import deep_clustering_loss
from cocktail.models.base import Architecture, embedding_pairs
from cocktail.models.layers import blstm_stack, per_bin_head


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    inputs = keras.Input((None, n_bins), name="log_magnitude")
    hidden = blstm_stack(inputs, int(section["hidden"]), int(section["layers"]), float(section["dropout"]))
    embeddings = per_bin_head(hidden, n_bins, int(section["embedding_dim"]), "tanh")
    embeddings = layers.UnitNormalization(axis=-1)(embeddings)
    return keras.Model(inputs, embeddings, name="dpcl")


def loss(section):
    return deep_clustering_loss


ARCHITECTURE = Architecture(
    name="dpcl",
    inference="clustering",
    params=("hidden", "layers", "dropout", "embedding_dim"),
    build=build,
    loss=loss,
    training_pairs=embedding_pairs,
)
