"""BLSTM mask network: one sigmoid mask per source and bin, MSE against the ideal binary mask.

Reference ("paper") settings: 2 BLSTM layers of 300 units per direction, dense sigmoid of 129
per source, 100-frame chunks. `permutation: fixed` is the reference's training target (the IBM
of the first-listed source), which stalls near 50% mask accuracy; `pit` picks, per chunk, the
source order with the lower loss."""

import keras

from cocktail.models.base import MASK, MASK_NETWORK_PARAMS, MASK_NETWORK_TINY, Architecture, mask_loss, mask_pairs
from cocktail.models.layers import blstm_stack, per_bin_head


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    inputs = keras.Input((None, n_bins), name="log_magnitude")
    hidden = blstm_stack(inputs, int(section["hidden"]), int(section["layers"]), float(section["dropout"]))
    masks = per_bin_head(hidden, n_bins, n_sources, "sigmoid")
    return keras.Model(inputs, masks, name="blstm")


ARCHITECTURE = Architecture(
    name="blstm",
    inference=MASK,
    params=MASK_NETWORK_PARAMS,
    reference={"hidden": 300, "layers": 2, "permutation": "fixed"},
    tiny=MASK_NETWORK_TINY,
    build=build,
    loss=lambda section: mask_loss(section, "blstm"),
    training_pairs=mask_pairs,
)
