"""Building blocks shared by architectures."""

from keras import layers, ops


def blstm_stack(x, units: int, n_layers: int, dropout: float):
    for _ in range(n_layers):
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True, dropout=dropout))(x)
    return x


def per_bin_head(x, n_bins: int, channels: int, activation: str):
    """Dense to bins x channels per frame, reshaped to (frames, bins, channels)."""
    x = layers.Dense(n_bins * channels, activation=activation)(x)
    return layers.Reshape((-1, n_bins, channels))(x)


class GlobalLayerNorm(layers.Layer):
    """gLN of Conv-TasNet: normalise over time and channels together, then a per-channel gain and bias."""

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, x):
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        var = ops.mean((x - mean) ** 2, axis=(1, 2), keepdims=True)
        return self.gamma * (x - mean) / ops.sqrt(var + 1e-8) + self.beta


class PadToMultiple(layers.Layer):
    """Zero-pad (batch, samples) at the end to a multiple of the encoder stride.

    With "same" padding a strided convolution shifts its frames by a few samples whenever the
    length is not a multiple of the stride, and the decoder would then be misaligned."""

    def __init__(self, multiple: int, **kwargs):
        super().__init__(**kwargs)
        self.multiple = multiple

    def call(self, x):
        missing = (-ops.shape(x)[1]) % self.multiple
        return ops.pad(x, [[0, 0], [0, missing]])


class CropLike(layers.Layer):
    """Cut the decoder's output (batch, sources, samples) to the input's length."""

    def call(self, decoded, reference):
        return decoded[:, :, : ops.shape(reference)[1]]


