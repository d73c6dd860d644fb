"""Conv-TasNet (Luo, Mesgarani, IEEE/ACM TASLP 2019): separation in a learned time-domain basis.

Encoder Conv1D (N filters of L samples, stride L/2, ReLU); separator: gLN, 1x1 bottleneck to B
channels, R repeats of X dilated blocks (1x1 to H, PReLU, gLN, depthwise conv of kernel P with
dilation 2^x, PReLU, gLN, 1x1 back to B for the residual and to Sc for the skip path), PReLU,
1x1 to C x N sigmoid masks; transposed-conv decoder. Trained with utterance-level PIT on
negative SI-SNR. Reference ("paper") settings: N=256, L=20, B=256, Sc=256, H=512, P=3, X=8, R=4."""

import keras
from keras import layers, ops

from cocktail.models.base import TIME_DOMAIN, Architecture, waveform_pairs
from cocktail.models.layers import GlobalLayerNorm, MatchLength, PadToMultiple
from cocktail.models.losses import negative_si_snr_upit
from cocktail.params import EVEN, WHOLE


def separator_block(x, bottleneck: int, hidden: int, skip: int, kernel: int, dilation: int):
    y = layers.Conv1D(hidden, 1)(x)
    y = GlobalLayerNorm()(layers.PReLU(shared_axes=[1])(y))
    y = layers.DepthwiseConv1D(kernel, padding="same", dilation_rate=dilation)(y)
    y = GlobalLayerNorm()(layers.PReLU(shared_axes=[1])(y))
    return layers.Add()([x, layers.Conv1D(bottleneck, 1)(y)]), layers.Conv1D(skip, 1)(y)


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    n_filters, length = int(section["N"]), int(section["L"])
    inputs = keras.Input((None,), name="waveform")
    frames = layers.Conv1D(n_filters, length, strides=length // 2, padding="same", use_bias=False, activation="relu")(
        layers.Reshape((-1, 1))(PadToMultiple(length // 2)(inputs))
    )
    x = layers.Conv1D(int(section["B"]), 1)(GlobalLayerNorm()(frames))
    skips = []
    for _ in range(int(section["R"])):
        for block in range(int(section["X"])):
            x, skip = separator_block(x, int(section["B"]), int(section["H"]), int(section["Sc"]), int(section["P"]), 2**block)
            skips.append(skip)
    y = layers.PReLU(shared_axes=[1])(layers.Add()(skips) if len(skips) > 1 else skips[0])
    masks = layers.Conv1D(n_sources * n_filters, 1, activation="sigmoid")(y)
    masks = layers.Reshape((-1, n_sources, n_filters))(masks)
    masked = layers.Lambda(lambda t: ops.transpose(t[0][:, :, None, :] * t[1], (0, 2, 1, 3)))([frames, masks])
    decoder = layers.Conv1DTranspose(1, length, strides=length // 2, padding="same", use_bias=False)
    decoded = layers.TimeDistributed(decoder)(masked)  # (batch, sources, samples, 1)
    decoded = layers.Reshape((n_sources, -1))(decoded)
    return keras.Model(inputs, MatchLength()(decoded, inputs), name="convtasnet")


def loss(section):
    return negative_si_snr_upit


ARCHITECTURE = Architecture(
    name="convtasnet",
    inference=TIME_DOMAIN,
    params={"N": WHOLE, "L": EVEN, "B": WHOLE, "Sc": WHOLE, "H": WHOLE, "P": WHOLE, "X": WHOLE, "R": WHOLE},
    reference={"N": 256, "L": 20, "B": 256, "Sc": 256, "H": 512, "P": 3, "X": 8, "R": 4},
    tiny={"N": 8, "L": 16, "B": 8, "Sc": 8, "H": 8, "P": 3, "X": 2, "R": 1},
    build=build,
    loss=loss,
    training_pairs=waveform_pairs,
)
