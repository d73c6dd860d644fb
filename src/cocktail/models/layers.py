"""Building blocks shared by architectures."""

import math

import keras
import tensorflow as tf
from keras import layers, ops

from cocktail.constants import EPS
from cocktail.errors import CocktailError


def blstm_stack(x, units: int, n_layers: int, dropout: float):
    for _ in range(n_layers):
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True, dropout=dropout))(x)
    return x


def per_bin_head(x, n_bins: int, channels: int, activation: str):
    """Dense to bins x channels per frame, reshaped to (frames, bins, channels)."""
    x = layers.Dense(n_bins * channels, activation=activation)(x)
    return layers.Reshape((-1, n_bins, channels))(x)


class GlobalLayerNorm(layers.Layer):
    """gLN of Conv-TasNet: normalise over every axis but the batch (time, or chunks and frames, and channels)
    together, then a per-channel gain and bias. The same as PyTorch's GroupNorm(1, C) that SpeechBrain uses."""

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, x):
        """Folded into one scale and one shift per example and channel: two passes over the tensor instead of five,
        each way (gLN was 29 % of the default Conv-TasNet's step; this halves it, bench/train_profile.py)."""
        mean, var = ops.moments(x, axes=tuple(range(1, len(x.shape))), keepdims=True)
        scale = self.gamma * ops.rsqrt(var + EPS)
        return x * scale + (self.beta - mean * scale)


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


class MatchLength(layers.Layer):
    """Cut or zero-pad the decoder's output (batch, sources, samples) to the input's length."""

    def call(self, decoded, reference):
        missing = ops.maximum(ops.shape(reference)[1] - ops.shape(decoded)[2], 0)
        return ops.pad(decoded, [[0, 0], [0, 0], [0, missing]])[:, :, : ops.shape(reference)[1]]


def learned_encoder(waveform, filters: int, length: int, activation: str | None):
    """Conv1D of `filters` filters of `length` samples, stride length/2, no padding (as asteroid and SpeechBrain):
    (batch, samples) -> (batch, frames, filters)."""
    conv = layers.Conv1D(filters, length, strides=length // 2, padding="valid", use_bias=False, activation=activation)
    return conv(layers.Reshape((-1, 1))(waveform))


def masked_decoder(frames, masks, length: int, waveform):
    """Each source's masked frames through one shared transposed convolution, fitted to the input's length:
    (batch, frames, filters) and (batch, sources, frames, filters) -> (batch, sources, samples)."""
    masked = layers.Lambda(lambda t: t[0][:, None] * t[1])([frames, masks])
    decoder = layers.Conv1DTranspose(1, length, strides=length // 2, padding="valid", use_bias=False)
    decoded = layers.TimeDistributed(decoder)(masked)  # (batch, sources, samples, 1)
    return MatchLength()(layers.Reshape((masks.shape[1], -1))(decoded), waveform)


class Segment(layers.Layer):
    """(batch, frames, channels) -> (batch, chunks, chunk, channels): chunks of `chunk` frames every `hop` frames
    after `front` zeros at the start and `back(frames)` zeros at the end (each reference pads its own way)."""

    def __init__(self, chunk: int, hop: int, front: int, back, **kwargs):
        super().__init__(**kwargs)
        self.chunk, self.hop, self.front, self.back = chunk, hop, front, back

    def call(self, x):
        padded = ops.pad(x, [[0, 0], [self.front, self.back(ops.shape(x)[1])], [0, 0]])
        return tf.signal.frame(padded, self.chunk, self.hop, axis=1)


class OverlapAdd(layers.Layer):
    """The inverse of Segment for each of `sources` groups of channels, summed where chunks overlap (no scaling, as
    both references): (batch, chunks, chunk, sources * channels) -> (batch, sources, frames, channels)."""

    def __init__(self, hop: int, front: int, sources: int, **kwargs):
        super().__init__(**kwargs)
        self.hop, self.front, self.sources = hop, front, sources

    def call(self, chunks, reference):
        shape = ops.shape(chunks)
        per_source = ops.reshape(chunks, (shape[0], shape[1], shape[2], self.sources, chunks.shape[-1] // self.sources))
        summed = tf.signal.overlap_and_add(ops.transpose(per_source, (0, 3, 4, 1, 2)), self.hop)
        frames = ops.shape(reference)[1]
        return ops.transpose(summed[..., self.front : self.front + frames], (0, 1, 3, 2))


class DualPathBlock(layers.Layer):
    """y = x + gLN(intra(x)) with `intra` run within each chunk, then y + gLN(inter(y)) with `inter` run across the
    chunks at each position: the block of DPRNN (an RNN and a linear layer each) and of SepFormer (a transformer
    each). (batch, chunks, chunk, channels) in and out."""

    def __init__(self, intra: layers.Layer, inter: layers.Layer, **kwargs):
        super().__init__(**kwargs)
        self.intra, self.inter = intra, inter
        self.intra_norm, self.inter_norm = GlobalLayerNorm(), GlobalLayerNorm()

    def call(self, x):
        batch, chunks = ops.shape(x)[0], ops.shape(x)[1]
        size, channels = x.shape[2], x.shape[3]
        within = ops.reshape(self.intra(ops.reshape(x, (-1, size, channels))), (batch, chunks, size, channels))
        y = x + self.intra_norm(within)
        across = ops.reshape(ops.transpose(y, (0, 2, 1, 3)), (-1, chunks, channels))
        across = ops.transpose(ops.reshape(self.inter(across), (batch, size, chunks, channels)), (0, 2, 1, 3))
        return y + self.inter_norm(across)


def dual_path_masks(chunks, frames, n_sources: int, hop: int, front: int, n_filters: int, activation: str):
    """The common head of DPRNN and SepFormer: PReLU (one slope), 1x1 to a copy of the channels per source,
    overlap-add, a tanh output gated by a sigmoid, 1x1 (no bias) to one mask per encoder filter:
    (batch, chunks, chunk, channels) -> (batch, sources, frames, filters)."""
    channels = chunks.shape[-1]
    y = layers.PReLU(shared_axes=[1, 2, 3])(chunks)
    y = OverlapAdd(hop, front, n_sources)(layers.Dense(n_sources * channels)(y), frames)
    y = layers.Multiply()([layers.Dense(channels, activation="tanh")(y), layers.Dense(channels, activation="sigmoid")(y)])
    return layers.Dense(n_filters, use_bias=False, activation=activation)(y)


def sinusoidal_positions(length, width: int, dtype):
    """(length, width): sin at even channels, cos at odd ones, wavelengths up to 10000 (Vaswani et al.)."""
    positions = ops.cast(ops.arange(length), "float32")[:, None]
    rates = ops.exp(ops.arange(0, width, 2, dtype="float32") * -(math.log(10000.0) / width))
    angles = positions * rates[None]
    return ops.cast(ops.reshape(ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1), (-1, width)), dtype)


class TransformerEncoder(layers.Layer):
    """SpeechBrain's SBTransformerBlock as SepFormer uses it: sinusoidal positions added, then `depth` layers of
    self-attention and a ReLU feed-forward net, each after a layer norm and with a residual, then a last layer norm.
    (batch, steps, width) in and out."""

    def __init__(self, depth: int, width: int, heads: int, hidden: int, **kwargs):
        super().__init__(**kwargs)
        if width % heads:
            raise CocktailError(f"a transformer of width {width} cannot have {heads} heads: the width must divide evenly.")
        self.width = width
        self.attention = [layers.MultiHeadAttention(heads, width // heads) for _ in range(depth)]
        self.feed_forward = [
            keras.Sequential([layers.Dense(hidden, activation="relu"), layers.Dense(width)]) for _ in range(depth)
        ]
        self.attention_norms = [layers.LayerNormalization(epsilon=1e-6) for _ in range(depth)]
        self.feed_forward_norms = [layers.LayerNormalization(epsilon=1e-6) for _ in range(depth)]
        self.final_norm = layers.LayerNormalization(epsilon=1e-6)

    def call(self, x):
        x = x + sinusoidal_positions(ops.shape(x)[1], self.width, x.dtype)[None]
        for attention, feed_forward, attention_norm, feed_forward_norm in zip(
            self.attention, self.feed_forward, self.attention_norms, self.feed_forward_norms
        ):
            normed = attention_norm(x)
            x = x + attention(normed, normed)
            x = x + feed_forward(feed_forward_norm(x))
        return self.final_norm(x)


