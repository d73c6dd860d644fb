"""SepFormer (Subakan, Ravanelli, Cornell, Bronzi, Zhong, ICASSP 2021), as SpeechBrain's recipe builds it.

A learned encoder (N filters of L samples, stride L/2, ReLU), gLN and a 1x1 bottleneck (no
bias) to d_model channels; the frames cut into chunks of K with 50 % overlap (K/2 zeros before,
enough after to end on a whole chunk and K/2 more); `blocks` dual-path blocks, each a
transformer within every chunk then one across chunks, each of `layers` pre-norm layers of
`heads`-head self-attention and a feed-forward net of d_ffn, with sinusoidal positions, gLN
and a residual around each; overlap-add, a tanh output gated by a sigmoid, ReLU masks per
encoder filter and a transposed-conv decoder. No recurrence: attention sees every frame of a
chunk and every chunk of an utterance at once. Trained with utterance-level PIT on negative
SI-SNR. Reference settings (SpeechBrain's wsj0-2mix recipe, about 26 M parameters): N 256,
L 16, d_model 256, K 250, blocks 2, layers 8, heads 8, d_ffn 1024."""

import keras
from keras import layers

from cocktail.models.base import TIME_DOMAIN, Architecture, waveform_pairs
from cocktail.models.layers import (
    DualPathBlock,
    GlobalLayerNorm,
    Segment,
    TransformerEncoder,
    dual_path_masks,
    learned_encoder,
    masked_decoder,
)
from cocktail.models.losses import negative_si_snr_upit
from cocktail.params import EVEN, WHOLE


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    length, chunk = int(section["L"]), int(section["K"])
    n_filters, width = int(section["N"]), int(section["d_model"])
    half = chunk // 2
    waveform = keras.Input((None,), name="waveform")
    frames = learned_encoder(waveform, n_filters, length, activation="relu")
    x = layers.Conv1D(width, 1, use_bias=False)(GlobalLayerNorm()(frames))
    # SpeechBrain pads half a chunk, then 1 to K frames so that the frames and that half end on a whole chunk, then half a chunk.
    x = Segment(chunk, half, front=half, back=lambda n_frames: half + chunk - (half + n_frames % chunk) % chunk)(x)

    def transformer():
        return TransformerEncoder(int(section["layers"]), width, int(section["heads"]), int(section["d_ffn"]))

    for _ in range(int(section["blocks"])):
        x = DualPathBlock(transformer(), transformer())(x)
    masks = dual_path_masks(x, frames, n_sources, half, half, n_filters, "relu")
    return keras.Model(waveform, masked_decoder(frames, masks, length, waveform), name="sepformer")


ARCHITECTURE = Architecture(
    name="sepformer",
    inference=TIME_DOMAIN,
    params={
        "N": WHOLE, "L": EVEN, "d_model": WHOLE, "K": EVEN, "blocks": WHOLE, "layers": WHOLE, "heads": WHOLE, "d_ffn": WHOLE,
    },
    reference={"N": 256, "L": 16, "d_model": 256, "K": 250, "blocks": 2, "layers": 8, "heads": 8, "d_ffn": 1024},
    tiny={"N": 8, "L": 16, "d_model": 8, "K": 10, "blocks": 1, "layers": 1, "heads": 2, "d_ffn": 16},
    build=build,
    loss=lambda section: negative_si_snr_upit,
    training_pairs=waveform_pairs,
)
