"""Feed-forward mask network: each frame on its own, one sigmoid mask per source and bin.

Reference ("paper") settings: 2 hidden layers of 300 (ReLU), sigmoid output of 129 per
source, MSE against the IBM with `permutation: fixed`. With no context across frames and a
fixed source order it cannot tell which speaker is "first": it is expected to stall near 50%
mask accuracy. `pit` picks, per 100-frame chunk, the source order with the lower loss."""

import keras
from keras import layers

from cocktail.models.base import MASK, MASK_NETWORK_PARAMS, MASK_NETWORK_TINY, Architecture, mask_loss, mask_pairs
from cocktail.models.layers import per_bin_head


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    inputs = keras.Input((None, n_bins), name="log_magnitude")
    hidden = inputs
    for _ in range(int(section["layers"])):
        hidden = layers.Dense(int(section["hidden"]), activation="relu")(hidden)
        hidden = layers.Dropout(float(section["dropout"]))(hidden)
    masks = per_bin_head(hidden, n_bins, n_sources, "sigmoid")
    return keras.Model(inputs, masks, name="ff")


ARCHITECTURE = Architecture(
    name="ff",
    inference=MASK,
    params=MASK_NETWORK_PARAMS,
    reference={"hidden": 300, "layers": 2, "permutation": "fixed"},
    tiny=MASK_NETWORK_TINY,
    build=build,
    loss=lambda section: mask_loss(section, "ff"),
    training_pairs=mask_pairs,
)
