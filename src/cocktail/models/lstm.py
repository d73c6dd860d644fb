"""Recurrent (forward-only) mask network: one sigmoid mask per source and bin, MSE against the IBM.

Reference ("paper") settings: 2 LSTM layers of 300, dense sigmoid of 129 per source, trained
on 100-frame chunks with `permutation: fixed`, which stalls near 50% mask accuracy; `pit`
picks, per chunk, the source order with the lower loss. Causal: it could run online."""

import keras
from keras import layers

from cocktail.models.base import MASK, MASK_NETWORK_PARAMS, MASK_NETWORK_TINY, Architecture, mask_loss, mask_pairs
from cocktail.models.layers import per_bin_head


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    inputs = keras.Input((None, n_bins), name="log_magnitude")
    hidden = inputs
    for _ in range(int(section["layers"])):
        hidden = layers.LSTM(int(section["hidden"]), return_sequences=True, dropout=float(section["dropout"]))(hidden)
    masks = per_bin_head(hidden, n_bins, n_sources, "sigmoid")
    return keras.Model(inputs, masks, name="lstm")


ARCHITECTURE = Architecture(
    name="lstm",
    inference=MASK,
    params=MASK_NETWORK_PARAMS,
    reference={"hidden": 300, "layers": 2, "permutation": "fixed"},
    tiny=MASK_NETWORK_TINY,
    build=build,
    loss=lambda section: mask_loss(section, "lstm"),
    training_pairs=mask_pairs,
)
