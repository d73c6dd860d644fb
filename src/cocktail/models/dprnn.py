"""Dual-path RNN (Luo, Chen, Yoshioka, ICASSP 2020), as asteroid's DPRNNTasNet builds it.

A learned encoder (N filters of L samples, stride L/2, linear), gLN and a 1x1 bottleneck to B
channels; the frames cut into chunks of K with 50 % overlap (K zeros padded at both ends);
R dual-path blocks, each a BLSTM of H units per direction and a linear layer within every
chunk, then the same across chunks (bidirectional or not), each with gLN and a residual;
overlap-add back to frames, a tanh output gated by a sigmoid, sigmoid masks per encoder
filter and a transposed-conv decoder. Short RNN runs within and across chunks see the whole
utterance at a cost linear in its length. Trained with utterance-level PIT on negative SI-SNR,
as Conv-TasNet. Reference settings (asteroid's recipe): N 64, L 16, B 128, H 128, K 100, R 6,
bidirectional; the paper's best uses L 2 and K 250."""

import keras
from keras import layers

from cocktail.models.base import TIME_DOMAIN, Architecture, waveform_pairs
from cocktail.models.layers import (
    DualPathBlock,
    GlobalLayerNorm,
    Segment,
    dual_path_masks,
    learned_encoder,
    masked_decoder,
)
from cocktail.models.losses import negative_si_snr_upit
from cocktail.params import EVEN, WHOLE, checked_choice


def chunk_rnn(hidden: int, channels: int, bidirectional: bool) -> keras.Sequential:
    rnn = layers.LSTM(hidden, return_sequences=True)
    return keras.Sequential([layers.Bidirectional(rnn) if bidirectional else rnn, layers.Dense(channels)])


def build(section, n_bins: int, n_sources: int) -> keras.Model:
    length, chunk = int(section["L"]), int(section["K"])
    n_filters, channels, hidden = int(section["N"]), int(section["B"]), int(section["H"])
    checked_choice("dprnn.bidirectional", section["bidirectional"], (True, False))
    waveform = keras.Input((None,), name="waveform")
    frames = learned_encoder(waveform, n_filters, length, activation=None)
    x = layers.Conv1D(channels, 1)(GlobalLayerNorm()(frames))
    x = Segment(chunk, chunk // 2, front=chunk, back=lambda n_frames: chunk)(x)
    for _ in range(int(section["R"])):
        x = DualPathBlock(chunk_rnn(hidden, channels, True), chunk_rnn(hidden, channels, section["bidirectional"]))(x)
    masks = dual_path_masks(x, frames, n_sources, chunk // 2, chunk, n_filters, "sigmoid")
    return keras.Model(waveform, masked_decoder(frames, masks, length, waveform), name="dprnn")


ARCHITECTURE = Architecture(
    name="dprnn",
    inference=TIME_DOMAIN,
    params={"N": WHOLE, "L": EVEN, "B": WHOLE, "H": WHOLE, "K": EVEN, "R": WHOLE, "bidirectional": None},
    reference={"N": 64, "L": 16, "B": 128, "H": 128, "K": 100, "R": 6, "bidirectional": True},
    tiny={"N": 8, "L": 16, "B": 8, "H": 4, "K": 10, "R": 1, "bidirectional": True},
    build=build,
    loss=lambda section: negative_si_snr_upit,
    training_pairs=waveform_pairs,
)
