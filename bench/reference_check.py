r"""Proves that our Keras Conv-TasNet, DPRNN, SepFormer and deep-clustering networks are the reference implementations.
Each reference is built seeded at our `reference` settings (Conv-TasNet also at asteroid's defaults), its weights go
into our model through one mapping function per model, and both run on the same 4 s of speech-like audio at 8 kHz:
the largest output difference, relative to the reference output's peak, must be at most 1e-4. The weights are the
seeded initialisation with every tensor perturbed, so that no norm gain is 1, no bias 0 and no two blocks alike: a
mapping mistake cannot hide behind an initial value. Then the norms' epsilons, the parameter
counts with their differences explained (and the arithmetic asserted), our two losses against asteroid's, and the
seconds of a training step of each framework on the same batch, the two alternating step by step.

References: asteroid 0.7.0 (ConvTasNet, DPRNNTasNet, its losses, and the SingleRNN that its deep-clustering recipe
builds on), SpeechBrain 1.1.2 (Encoder, SBTransformerBlock, Dual_Path_Model and Decoder joined as its wsj0-2mix
SepFormer recipe joins them). They need PyTorch, which stays out of the project's venv: their declared dependencies
bring a several-GB CUDA build of it and a torchaudio that cannot load beside the CPU build. They live in
.venv-reference (git-ignored, 1.2 GB, most of it the CPU build of torch), made once from the project root by:

    python3.11 -m venv .venv-reference && .venv-reference/bin/pip install torch==2.13.0 numpy==2.4.6 scipy soundfile \
        requests huggingface_hub packaging hyperpyyaml tqdm && .venv-reference/bin/pip install --no-deps asteroid==0.7.0 \
        asteroid-filterbanks==0.4.0 speechbrain==1.1.2

bench/reference_export.py runs the references there; this script, in the project's venv, drives it.
Usage: python bench/reference_check.py [--steps 3]"""

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

import cocktail  # noqa: F401  (TensorFlow's allocator and log level, set before TensorFlow loads)
from cocktail.data.features import spectral_targets
from cocktail.dsp.spectral import Normaliser
from cocktail.dsp.stft import StftConfig
from cocktail.models import ARCHITECTURES
from cocktail.models.layers import DualPathBlock, GlobalLayerNorm
from cocktail.models.losses import deep_clustering_loss, negative_si_snr_upit
from cocktail.params import Params

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_PYTHON = ROOT / ".venv-reference" / "bin" / "python"
INSTALL = (
    "python3.11 -m venv .venv-reference && .venv-reference/bin/pip install torch==2.13.0 numpy==2.4.6 scipy soundfile "
    "requests huggingface_hub packaging hyperpyyaml tqdm && .venv-reference/bin/pip install --no-deps asteroid==0.7.0 "
    "asteroid-filterbanks==0.4.0 speechbrain==1.1.2"
)
RATE, N_BINS, N_SOURCES = 8000, 129, 2
OUTPUT_TOLERANCE, LOSS_TOLERANCE = 1e-4, 1e-5
ASTEROID_CONVTASNET = {"N": 512, "L": 16, "B": 128, "H": 512, "Sc": 128, "P": 3, "X": 8, "R": 3}


def fail(message: str):
    sys.exit(f"error: {message}")


class Mapping:
    """The reference's tensors of one model, read by key, and our layers, written through `set`: what was never read
    or never written is reported, so that a tensor left behind or a weight left at its initial value fails the check."""

    def __init__(self, model: keras.Model, tensors: dict[str, np.ndarray]):
        self.model, self.tensors = model, tensors
        self.read, self.written = set(), set()

    def __getitem__(self, key: str) -> np.ndarray:
        self.read.add(key)
        return self.tensors[key]

    def pair(self, key: str, layout: Callable = np.asarray, names: tuple[str, str] = ("weight", "bias")) -> list[np.ndarray]:
        """A torch module's weight, in Keras's layout, and bias; or, named so, a norm's gain and shift."""
        return [layout(self[f"{key}.{names[0]}"]), self[f"{key}.{names[1]}"]]

    def set(self, layer: layers.Layer, values: list) -> None:
        layer.set_weights(values)
        self.written.update(id(weight) for weight in layer.weights)

    def check(self, unused: tuple[str, ...] = ()) -> None:
        left = sorted(set(self.tensors) - self.read)
        assert left == sorted(unused), f"{self.model.name}: reference tensors not mapped: {left}"
        unset = [weight.path for weight in self.model.weights if id(weight) not in self.written]
        assert not unset, f"{self.model.name}: weights the mapping never set: {unset}"


GAIN = ("gamma", "beta")  # asteroid's names for a norm's weight and bias


def conv(weight: np.ndarray) -> np.ndarray:
    """torch Conv1d / ConvTranspose1d weight (out or in, in or out, k) -> Keras kernel (k, ., .): axes reversed."""
    return weight.transpose(2, 1, 0)


def pointwise(weight: np.ndarray) -> np.ndarray:
    """torch Linear (out, in), or a 1x1 Conv1d / Conv2d (out, in, 1[, 1]) -> Keras Dense kernel (in, out)."""
    return weight.reshape(weight.shape[:2]).T


def slopes(layer: layers.PReLU, slope: np.ndarray) -> list[np.ndarray]:
    """A torch PReLU's one slope as the alpha of a Keras PReLU of any shape."""
    return [np.full(layer.get_weights()[0].shape, slope.item(), np.float32)]


def lstm(weights: Mapping, prefix: str, suffix: str) -> list[np.ndarray]:
    """One direction of a torch LSTM layer -> Keras LSTM [kernel, recurrent_kernel, bias]: transposed, and torch's
    two biases b_ih + b_hh summed into Keras's one; both order the gates i, f, g (c), o."""
    bias = weights[f"{prefix}bias_ih_{suffix}"] + weights[f"{prefix}bias_hh_{suffix}"]
    return [weights[f"{prefix}weight_ih_{suffix}"].T, weights[f"{prefix}weight_hh_{suffix}"].T, bias]


def set_rnn(weights: Mapping, rnn: layers.Layer, prefix: str, layer_index: int) -> None:
    """A torch (B)LSTM layer `layer_index` into a Keras LSTM or Bidirectional(LSTM)."""
    if isinstance(rnn, layers.Bidirectional):
        weights.set(rnn.forward_layer, lstm(weights, prefix, f"l{layer_index}"))
        weights.set(rnn.backward_layer, lstm(weights, prefix, f"l{layer_index}_reverse"))
    else:
        weights.set(rnn, lstm(weights, prefix, f"l{layer_index}"))


def made_by(tensor) -> layers.Layer:
    return tensor._keras_history.operation


def back(layer: layers.Layer, steps: int) -> list[layers.Layer]:
    """The `steps` layers before `layer` along its single input, nearest first."""
    found = []
    for _ in range(steps):
        layer = made_by(layer.input)
        found.append(layer)
    return found


def convtasnet_layers(model: keras.Model) -> dict:
    """Our Conv-TasNet's layers by role, found by walking its graph back from the decoder: model.layers orders them by
    depth, which interleaves the blocks, and a residual and a skip conv look alike when B equals Sc."""
    decoder = next(layer for layer in model.layers if isinstance(layer, layers.TimeDistributed))
    frames, masks = made_by(decoder.input).input
    reshape_masks = made_by(masks)
    mask_conv, last_prelu, skip_sum = back(reshape_masks, 3)
    blocks = []
    for skip_tensor in skip_sum.input:
        skip = made_by(skip_tensor)
        second_norm, second_prelu, depthwise, first_norm, first_prelu, hidden = back(skip, 6)
        blocks.append({
            "hidden": hidden, "prelus": (first_prelu, second_prelu), "norms": (first_norm, second_norm),
            "depthwise": depthwise, "skip": skip,
        })
    for previous, block in itertools.pairwise(blocks):  # a block's input is the previous block's residual sum
        previous["residual"] = made_by(made_by(block["hidden"].input).input[1])
    bottleneck, first_norm = back(blocks[0]["hidden"], 2)
    return {
        "encoder": made_by(frames), "norm": first_norm, "bottleneck": bottleneck, "blocks": blocks, "last_prelu": last_prelu,
        "mask_conv": mask_conv, "decoder": decoder.layer,
    }


def copy_convtasnet(model: keras.Model, weights: Mapping) -> None:
    """asteroid's ConvTasNet -> our Conv-TasNet; block i of R·X, C sources. Transposes: conv reverses the axes of torch's
    (out, in, k) into Keras's (k, in, out); a depthwise (H, 1, P) becomes (P, H, 1).

    asteroid                                        ours                                    how
    encoder.filterbank._filters (N, 1, L)           encoder Conv1D kernel (L, 1, N)         conv
    masker.bottleneck.0.gamma, .beta                GlobalLayerNorm of the frames           as is
    masker.bottleneck.1.weight (B, N, 1), .bias     bottleneck Conv1D (1, N, B), bias       conv
    masker.TCN.i.shared_block.0 (H, B, 1), .bias    block i Conv1D to H                     conv
    masker.TCN.i.shared_block.1.weight (1,)         block i first PReLU alpha (1, H)        the one slope, H times
    masker.TCN.i.shared_block.2.gamma, .beta        block i first GlobalLayerNorm           as is
    masker.TCN.i.shared_block.3 (H, 1, P), .bias    block i DepthwiseConv1D (P, H, 1)       transposed (2, 0, 1)
    masker.TCN.i.shared_block.4.weight (1,)         block i second PReLU alpha (1, H)       the one slope, H times
    masker.TCN.i.shared_block.5.gamma, .beta        block i second GlobalLayerNorm          as is
    masker.TCN.i.res_conv (B, H, 1), .bias          block i residual Conv1D                 conv; the last block's: none
    masker.TCN.i.skip_conv (Sc, H, 1), .bias        block i skip Conv1D                     conv
    masker.mask_net.0.weight (1,)                   PReLU alpha (1, Sc) on the skip sum     the one slope, Sc times
    masker.mask_net.1 (C·N, Sc, 1), .bias           mask Conv1D (1, Sc, C·N), bias          conv; both index c·N + n
    decoder.filterbank._filters (N, 1, L)           Conv1DTranspose kernel (L, 1, N)        conv"""
    found = convtasnet_layers(model)
    weights.set(found["encoder"], [conv(weights["encoder.filterbank._filters"])])
    weights.set(found["norm"], weights.pair("masker.bottleneck.0", names=GAIN))
    weights.set(found["bottleneck"], weights.pair("masker.bottleneck.1", conv))
    for i, block in enumerate(found["blocks"]):
        shared = f"masker.TCN.{i}.shared_block."
        weights.set(block["hidden"], weights.pair(shared + "0", conv))
        for prelu, index in zip(block["prelus"], (1, 4)):
            weights.set(prelu, slopes(prelu, weights[f"{shared}{index}.weight"]))
        for norm, index in zip(block["norms"], (2, 5)):
            weights.set(norm, weights.pair(f"{shared}{index}", names=GAIN))
        weights.set(block["depthwise"], weights.pair(shared + "3", lambda weight: weight.transpose(2, 0, 1)))
        if "residual" in block:
            weights.set(block["residual"], weights.pair(f"masker.TCN.{i}.res_conv", conv))
        weights.set(block["skip"], weights.pair(f"masker.TCN.{i}.skip_conv", conv))
    weights.set(found["last_prelu"], slopes(found["last_prelu"], weights["masker.mask_net.0.weight"]))
    weights.set(found["mask_conv"], weights.pair("masker.mask_net.1", conv))
    weights.set(found["decoder"], [conv(weights["decoder.filterbank._filters"])])
    last = f"masker.TCN.{len(found['blocks']) - 1}.res_conv."
    weights.check(unused=(last + "weight", last + "bias"))


def dual_path_layers(model: keras.Model) -> dict:
    """The layers of our DPRNN or SepFormer outside the dual-path blocks, by role (each appears once)."""
    def of(kind):
        return [layer for layer in model.layers if isinstance(layer, kind)]

    convolutions, dense = of(layers.Conv1D), of(layers.Dense)
    by_activation = {layer.activation.__name__: layer for layer in dense if layer.use_bias}
    return {
        "encoder": next(c for c in convolutions if c.kernel_size[0] > 1),
        "bottleneck": next(c for c in convolutions if c.kernel_size[0] == 1),
        "norm": of(GlobalLayerNorm)[0],
        "blocks": of(DualPathBlock),
        "prelu": of(layers.PReLU)[0],
        "split": by_activation["linear"], "tanh": by_activation["tanh"], "gate": by_activation["sigmoid"],
        "mask": next(layer for layer in dense if not layer.use_bias),
        "decoder": of(layers.TimeDistributed)[0].layer,
    }


def copy_dual_path_head(weights: Mapping, found: dict, prelu: str, split: str, tanh: str, gate: str, mask: str) -> None:
    """The head shared by DPRNN and SepFormer: PReLU, 1x1 to a copy per source, tanh output gated by a sigmoid, masks."""
    weights.set(found["prelu"], slopes(found["prelu"], weights[prelu + ".weight"]))
    for role, key in (("split", split), ("tanh", tanh), ("gate", gate)):
        weights.set(found[role], weights.pair(key, pointwise))
    weights.set(found["mask"], [pointwise(weights[mask + ".weight"])])


def copy_dprnn(model: keras.Model, weights: Mapping) -> None:
    """asteroid's DPRNNTasNet -> our DPRNN; block r of R, C sources, H units. pointwise: torch (out, in[, 1, 1]) -> Keras
    Dense (in, out).

    asteroid                                           ours                                       how
    encoder.filterbank._filters (N, 1, L)              encoder Conv1D kernel (L, 1, N)            conv
    masker.bottleneck.0.gamma, .beta                   GlobalLayerNorm of the frames              as is
    masker.bottleneck.1.weight (B, N, 1), .bias        bottleneck Conv1D (1, N, B), bias          conv
    masker.net.r.intra_RNN.rnn.weight_ih_l0 (4H, B)    block r intra forward LSTM kernel (B, 4H)  .T
      .weight_hh_l0 (4H, H)                              recurrent_kernel (H, 4H)                 .T
      .bias_ih_l0 + .bias_hh_l0 (4H each)                bias (4H)                                summed; gates i, f, g, o
      ..._l0_reverse                                     backward LSTM                            the same
    masker.net.r.intra_linear (B, 2H), .bias           block r intra Dense (2H, B)                pointwise
    masker.net.r.intra_norm.gamma, .beta               block r intra_norm                         as is
    masker.net.r.inter_RNN, inter_linear, inter_norm   block r inter: the same
    masker.first_out.0.weight (1,)                     PReLU alpha (1, 1, 1)                      as is
    masker.first_out.1 (C·B, B, 1, 1), .bias           Dense to C·B                               pointwise; both c·B + b
    masker.net_out.0 (B, B, 1), .bias                  tanh Dense (B, B)                          pointwise
    masker.net_gate.0 (B, B, 1), .bias                 sigmoid Dense (B, B)                       pointwise
    masker.mask_net.weight (N, B, 1)                   mask Dense (B, N), no bias                 pointwise
    decoder.filterbank._filters (N, 1, L)              Conv1DTranspose kernel (L, 1, N)           conv"""
    found = dual_path_layers(model)
    weights.set(found["encoder"], [conv(weights["encoder.filterbank._filters"])])
    weights.set(found["norm"], weights.pair("masker.bottleneck.0", names=GAIN))
    weights.set(found["bottleneck"], weights.pair("masker.bottleneck.1", conv))
    for r, block in enumerate(found["blocks"]):
        for path, sequential, norm in (("intra", block.intra, block.intra_norm), ("inter", block.inter, block.inter_norm)):
            torch_path = f"masker.net.{r}.{path}_"
            rnn, linear = sequential.layers
            set_rnn(weights, rnn, torch_path + "RNN.rnn.", 0)
            weights.set(linear, weights.pair(torch_path + "linear", pointwise))
            weights.set(norm, weights.pair(torch_path + "norm", names=GAIN))
    copy_dual_path_head(
        weights, found, "masker.first_out.0", "masker.first_out.1", "masker.net_out.0", "masker.net_gate.0", "masker.mask_net"
    )
    weights.set(found["decoder"], [conv(weights["decoder.filterbank._filters"])])
    weights.check()


def copy_transformer(weights: Mapping, transformer, prefix: str) -> None:
    """SpeechBrain's TransformerEncoder (within SBTransformerBlock) -> our TransformerEncoder; torch's
    MultiheadAttention packs query, key and value as thirds of in_proj, Keras splits each by head."""
    heads = transformer.attention[0].num_heads
    for j, (attention, feed_forward, attention_norm, feed_forward_norm) in enumerate(zip(
        transformer.attention, transformer.feed_forward, transformer.attention_norms, transformer.feed_forward_norms
    )):
        layer = f"{prefix}layers.{j}."
        packed = weights.pair(layer + "self_att.att", names=("in_proj_weight", "in_proj_bias"))
        kernels, biases = (np.split(part, 3) for part in packed)
        for dense, kernel, bias in zip((attention.query_dense, attention.key_dense, attention.value_dense), kernels, biases):
            weights.set(dense, [kernel.T.reshape(kernel.shape[1], heads, -1), bias.reshape(heads, -1)])
        output = weights.pair(layer + "self_att.att.out_proj", lambda kernel: kernel.T.reshape(heads, -1, len(kernel)))
        weights.set(attention.output_dense, output)
        for dense, index in zip(feed_forward.layers, (0, 3)):
            weights.set(dense, weights.pair(f"{layer}pos_ffn.ffn.{index}", pointwise))
        for norm, name in ((attention_norm, "norm1"), (feed_forward_norm, "norm2")):
            weights.set(norm, weights.pair(f"{layer}{name}.norm"))
    weights.set(transformer.final_norm, weights.pair(prefix + "norm.norm"))


def copy_sepformer(model: keras.Model, weights: Mapping) -> None:
    """SpeechBrain's SepFormer (recipe modules encoder, masknet, decoder) -> our SepFormer; block b of `blocks`, layer
    j of `layers`, D = d_model, C sources, M = the heads, F = d_ffn.

    SpeechBrain                                            ours                                      how
    encoder.conv1d.weight (N, 1, L)                        encoder Conv1D kernel (L, 1, N)           conv
    masknet.norm.weight, .bias (GroupNorm(1, N))           GlobalLayerNorm of the frames             as is
    masknet.conv1d.weight (D, N, 1)                        bottleneck Conv1D (1, N, D), no bias      conv
    masknet.dual_mdl.b.intra_mdl.mdl.layers.j.
      self_att.att.in_proj_weight (3D, D)                  block b intra attention[j] query, key,    thirds, .T, reshaped
                                                             value kernels (D, M, D/M)
      self_att.att.in_proj_bias (3D)                         their biases (M, D/M)                   thirds, reshaped
      self_att.att.out_proj.weight (D, D), .bias             output kernel (M, D/M, D), bias         .T, reshaped
      pos_ffn.ffn.0 (F, D), ffn.3 (D, F), biases             feed_forward[j] Dense, Dense            pointwise
      norm1.norm, norm2.norm                                 attention_norms[j], feed_forward_norms[j]  as is
    masknet.dual_mdl.b.intra_mdl.mdl.norm.norm             block b intra final_norm                  as is
    masknet.dual_mdl.b.inter_mdl...                        block b inter: the same
    masknet.dual_mdl.b.intra_norm, inter_norm (GroupNorm)  block b intra_norm, inter_norm            as is
    masknet.prelu.weight (1,)                              PReLU alpha (1, 1, 1)                     as is
    masknet.conv2d (C·D, D, 1, 1), .bias                   Dense to C·D                              pointwise; both c·D + d
    masknet.output.0, masknet.output_gate.0 (D, D, 1)      tanh Dense, sigmoid Dense                 pointwise
    masknet.end_conv1x1.weight (N, D, 1)                   mask Dense (D, N), no bias                pointwise
    decoder.weight (N, 1, L)                               Conv1DTranspose kernel (L, 1, N)          conv"""
    found = dual_path_layers(model)
    weights.set(found["encoder"], [conv(weights["encoder.conv1d.weight"])])
    weights.set(found["norm"], weights.pair("masknet.norm"))
    weights.set(found["bottleneck"], [conv(weights["masknet.conv1d.weight"])])
    for b, block in enumerate(found["blocks"]):
        for path, transformer, norm in (("intra", block.intra, block.intra_norm), ("inter", block.inter, block.inter_norm)):
            copy_transformer(weights, transformer, f"masknet.dual_mdl.{b}.{path}_mdl.mdl.")
            weights.set(norm, weights.pair(f"masknet.dual_mdl.{b}.{path}_norm"))
    copy_dual_path_head(
        weights, found, "masknet.prelu", "masknet.conv2d", "masknet.output.0", "masknet.output_gate.0", "masknet.end_conv1x1"
    )
    weights.set(found["decoder"], [conv(weights["decoder.weight"])])
    weights.check()


def copy_dpcl(model: keras.Model, weights: Mapping) -> None:
    """The deep-clustering branch of asteroid's recipe -> our dpcl; BLSTM layer k, H units, F bins, D dimensions.

    asteroid recipe                                ours                                  how
    rnn.rnn.weight_ih_lk (4H, F or 2H)             Bidirectional k forward LSTM kernel   .T
      .weight_hh_lk (4H, H)                          recurrent_kernel (H, 4H)            .T
      .bias_ih_lk + .bias_hh_lk (4H each)            bias (4H)                           summed; gates i, f, g, o
      ..._lk_reverse                                 backward LSTM                       the same
    embedding_layer.weight (F·D, 2H), .bias        tanh Dense (2H, F·D)                  pointwise; both f·D + d"""
    for k, rnn in enumerate(layer for layer in model.layers if isinstance(layer, layers.Bidirectional)):
        set_rnn(weights, rnn, "rnn.rnn.", k)
    dense = next(layer for layer in model.layers if isinstance(layer, layers.Dense))
    weights.set(dense, weights.pair("embedding_layer", pointwise))
    weights.check()


def convtasnet_difference(s: dict) -> tuple[int, str]:
    blocks = s["R"] * s["X"]
    per_channel = blocks * 2 * (s["H"] - 1) + s["Sc"] - 1
    residual = s["H"] * s["B"] + s["B"]
    return per_channel - residual, (
        f"+{per_channel:,}, asteroid's PReLUs being one slope each and ours one per channel (2·(H−1) in each of "
        f"the {blocks} blocks, Sc−1 before the masks); −{residual:,}, Keras dropping the last block's residual 1x1 conv "
        f"(H·B + B), whose output nothing uses"
    )


def lstm_bias_difference(directions: int, hidden: int) -> tuple[int, str]:
    extra = directions * 4 * hidden
    return -extra, (
        f"−{extra:,}, PyTorch LSTMs carrying two biases b_ih and b_hh where Keras has one, their sum: 4H = {4 * hidden} "
        f"in each of {directions} LSTM directions"
    )


@dataclass(frozen=True)
class Check:
    name: str  # the reference's name in the export
    architecture: str
    settings: dict
    copy_weights: Callable[[keras.Model, Mapping], None]
    difference: Callable[[dict], tuple[int, str]]  # ours − reference parameters, and why
    input: str = "mixture"
    batch: tuple[str, str] = ("train_mixture", "train_sources")
    steps: int = 3  # timed training steps of each framework; 0: not timed
    note: str = ""  # where ours deliberately differs, and how the comparison allows for it

    def as_reference(self, output: np.ndarray) -> np.ndarray:
        """Our output in the reference's layout: dpcl's (batch, frames, bins, D) bins major, as the recipe's."""
        return output.transpose(0, 2, 1, 3).reshape(len(output), -1, output.shape[-1]) if self.name == "dpcl" else output


def reference_settings(params: Params) -> dict[str, dict]:
    """Each architecture's `reference` settings over its params.yaml section (for the keys the reference leaves out)."""
    names = ("convtasnet", "dprnn", "sepformer", "dpcl")
    settings = {name: {**params.section(name), **ARCHITECTURES[name].reference} for name in names}
    settings["convtasnet_asteroid"] = {**settings["convtasnet"], **ASTEROID_CONVTASNET}
    return settings


def checks_at(settings: dict[str, dict]) -> list[Check]:
    padding = (
        'ours pads "same" and asteroid nothing, so asteroid runs on the input with L/4 zeros each side and its output is '
        "cut by L/4 each side (what ours pads, for a length that is a multiple of L/2); asteroid's encoder is built with "
        'encoder_activation="relu" as ours (its default is linear)'
    )
    return [
        Check("convtasnet", "convtasnet", settings["convtasnet"], copy_convtasnet, convtasnet_difference, note=padding),
        Check(
            "convtasnet_asteroid", "convtasnet", settings["convtasnet_asteroid"], copy_convtasnet, convtasnet_difference,
            steps=0, note="asteroid's default sizes; the same padding and encoder as above",
        ),
        Check(
            "dprnn", "dprnn", settings["dprnn"], copy_dprnn,
            lambda s: lstm_bias_difference(s["R"] * (2 + (2 if s["bidirectional"] else 1)), s["H"]),
        ),
        Check("sepformer", "sepformer", settings["sepformer"], copy_sepformer, lambda s: (0, ""), steps=2),
        Check(
            "dpcl", "dpcl", settings["dpcl"], copy_dpcl, lambda s: lstm_bias_difference(2 * s["layers"], s["hidden"]),
            input="log_mag", batch=("train_log_mag", "train_targets"),
            note="asteroid 0.7.0 ships no ChimeraPP: the reference is its recipe's deep-clustering branch on asteroid's "
            "SingleRNN, given our normalised log magnitudes (no take_log); embeddings compared bins major",
        ),
    ]


def speech_like(rng: np.random.Generator, samples: int) -> np.ndarray:
    """A stand-in for a voice: harmonics of a wandering pitch under a syllable-rate envelope, over faint noise."""
    t = np.arange(samples) / RATE
    pitch = rng.uniform(90, 220) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, int(RATE / 2 / pitch.max())))
    syllables = np.sin(np.pi * rng.uniform(3, 6) * t + rng.uniform(0, np.pi)) ** 2
    return (0.3 * syllables * voiced + 0.003 * rng.standard_normal(samples)).astype(np.float32)


def utterances(rng: np.random.Generator, batch: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(batch, samples) two-voice mixtures and their (batch, sources, samples) voices."""
    sources = np.stack([[speech_like(rng, int(seconds * RATE)) for _ in range(N_SOURCES)] for _ in range(batch)])
    return sources.sum(axis=1), sources


def spectral(mixtures: np.ndarray, sources: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """The features dpcl trains on: (batch, frames, bins) normalised log magnitudes, and IBM with voice activity packed
    as the last channel."""
    stft, vad_db = StftConfig.from_params(params.section("features")), float(params["features.vad_db"])
    targets = [spectral_targets(mixture, voices, stft, vad_db) for mixture, voices in zip(mixtures, sources)]
    log_mag = np.stack([t["log_mag"] for t in targets])
    normalised = Normaliser(log_mag.mean(axis=(0, 1)), log_mag.std(axis=(0, 1)))(log_mag)
    packed = np.stack([np.concatenate([t["ibm"], t["vad"][..., None]], axis=-1) for t in targets]).astype(np.float32)
    return normalised, packed


def make_inputs(rng: np.random.Generator, params: Params, embedding_dim: int) -> dict[str, np.ndarray]:
    """Every array both frameworks see: the 4 s utterance each model separates (or embeds), the training batch of two
    2 s utterances, and the losses' estimates: the voices (the second item's swapped) plus noise, random embeddings."""
    mixture, sources = utterances(rng, 1, 4.0)
    train_mixture, train_sources = utterances(rng, 2, 2.0)
    train_log_mag, train_targets = spectral(train_mixture, train_sources, params)
    estimates = train_sources.copy()
    estimates[1] = estimates[1, ::-1]
    estimates += 0.3 * train_sources.std() * rng.standard_normal(estimates.shape)
    embeddings = rng.standard_normal((*train_targets.shape[:3], embedding_dim))
    embeddings /= np.linalg.norm(embeddings, axis=-1, keepdims=True)
    arrays = {
        "mixture": mixture, "log_mag": spectral(mixture, sources, params)[0],
        "pit_sources": train_sources, "pit_estimates": estimates, "dc_targets": train_targets, "dc_embeddings": embeddings,
        "train_mixture": train_mixture, "train_sources": train_sources,
        "train_log_mag": train_log_mag, "train_targets": train_targets,
    }
    return {key: value.astype(np.float32) for key, value in arrays.items()}


class Reference:
    """bench/reference_export.py in .venv-reference: the references' weights, outputs, counts and losses in a file,
    then one training step per request, so that the frameworks take turns on the CPU."""

    def __init__(self, scratch: Path, settings: dict, inputs: dict[str, np.ndarray]):
        if not REFERENCE_PYTHON.exists():
            fail(f"torch is not installed (no {REFERENCE_PYTHON.relative_to(ROOT)}): install the references with: {INSTALL}")
        np.savez(scratch / "inputs.npz", settings=json.dumps(settings), **inputs)
        self.log_path = scratch / "reference.log"
        self.log = self.log_path.open("w")
        script = ROOT / "bench" / "reference_export.py"
        command = [str(REFERENCE_PYTHON), str(script), str(scratch / "inputs.npz"), str(scratch / "outputs.npz")]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready = self.reply()
        if "missing" in ready:
            fail(f"{ready['missing']} is not installed in .venv-reference: install the references with: {INSTALL}")
        self.versions = ready["versions"]
        with np.load(scratch / "outputs.npz") as exported:
            self.exported = dict(exported)

    def reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            self.log.close()
            fail(f"the reference process stopped (exit {self.process.wait()}):\n{self.log_path.read_text()[-3000:]}")
        return json.loads(line)

    def step(self, name: str) -> dict:
        self.process.stdin.write(f"step {name}\n")
        self.process.stdin.flush()
        return self.reply()

    def weights(self, name: str) -> dict[str, np.ndarray]:
        prefix = f"{name}/weight/"
        return {key[len(prefix) :]: value for key, value in self.exported.items() if key.startswith(prefix)}

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()
        self.log.close()


def compare_outputs(checks: list[Check], reference: Reference, inputs: dict[str, np.ndarray]) -> dict[str, keras.Model]:
    """Each of our models with the reference's weights, run on the same input; returns those to time."""
    print(
        f"Outputs on {inputs['mixture'].shape[1] / RATE:.0f} s at {RATE} Hz (batch 1), ours with the reference's weights; "
        f"max|Δ| relative to the reference output's peak, goal ≤ {OUTPUT_TOLERANCE:g}"
    )
    print(f"{'model':<20} {'max|Δ|/peak':>11} {'met':>4} {'params ours':>12} {'reference':>12} {'ours−ref':>9}")
    models, notes = {}, []
    for check in checks:
        model = ARCHITECTURES[check.architecture].build(check.settings, N_BINS, N_SOURCES)
        check.copy_weights(model, Mapping(model, reference.weights(check.name)))
        ours = check.as_reference(model.predict(inputs[check.input], verbose=0))
        theirs = reference.exported[f"{check.name}/output"]
        error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
        count, reference_count = model.count_params(), int(reference.exported[f"{check.name}/count"])
        explained, why = check.difference(check.settings)
        difference = count - reference_count
        assert difference == explained, f"{check.name}: ours − reference {difference:,}, explained {explained:,}"
        met = "yes" if error <= OUTPUT_TOLERANCE else "NO"
        print(f"{check.name:<20} {error:>11.1e} {met:>4} {count:>12,} {reference_count:>12,} {difference:>9,}")
        settings = " ".join(f"{key} {check.settings[key]}" for key in ARCHITECTURES[check.architecture].params)
        notes.append(f"{check.name} ({settings}): " + (f"equal after {why}" if why else "counts equal"))
        if check.note:
            notes.append(f"    {check.note}")
        if check.steps:
            models[check.name] = model
    print("\n".join(notes))
    return models


def compare_losses(reference: Reference, inputs: dict[str, np.ndarray]) -> None:
    numpy = keras.ops.convert_to_numpy
    pit = np.mean(numpy(negative_si_snr_upit(inputs["pit_sources"], inputs["pit_estimates"])))
    active = inputs["dc_targets"][..., -1].sum(axis=(1, 2))
    dc = numpy(deep_clustering_loss(inputs["dc_targets"], inputs["dc_embeddings"])) * active
    rows = [("uPIT negative SI-SNR, batch mean", pit, reference.exported["loss/pit"])]
    for item, (ours, theirs) in enumerate(zip(dc, reference.exported["loss/dc"]), 1):
        rows.append((f"deep clustering × active bins, item {item}", ours, theirs))
    print(f"\nLosses on the same estimates and references (batch 2 of 2 s), goal ≤ {LOSS_TOLERANCE:g} relative")
    print(f"{'loss':<36} {'ours':>12} {'asteroid':>12} {'relative Δ':>10} {'met':>4}")
    for name, ours, theirs in rows:
        error = float(abs(ours - theirs) / abs(theirs))
        print(f"{name:<36} {ours:>12.5f} {theirs:>12.5f} {error:>10.1e} {'yes' if error <= LOSS_TOLERANCE else 'NO':>4}")
    print(
        "    deep clustering: ours divides ‖VVᵀ−YYᵀ‖² by (active bins)², asteroid's by the active bins (src/cocktail/models/losses.py, "
        f"asteroid/losses/cluster.py): ours is shown multiplied by the active bins ({', '.join(f'{a:,.0f}' for a in active)})"
    )


def global_norm_epsilon() -> float:
    """Our GlobalLayerNorm's epsilon, measured: on ±a (unit gain, no shift) it gives a / sqrt(a² + epsilon)."""
    quiet = 1e-4
    out = float(GlobalLayerNorm()(np.array([[[quiet], [-quiet]]], np.float32))[0, 0, 0])
    return quiet**2 * (1 / out**2 - 1)


def compare_norm_epsilons(models: dict[str, keras.Model], reference: Reference) -> None:
    """Epsilons too small to move the outputs above, read from both sides (ours: gLN's measured)."""
    blocks = [layer for layer in models["sepformer"].layers if isinstance(layer, DualPathBlock)]
    transformers = [transformer for block in blocks for transformer in (block.intra, block.inter)]
    norms = [norm for t in transformers for norm in (*t.attention_norms, *t.feed_forward_norms, t.final_norm)]
    rows = [
        ("gLN (asteroid's GlobLN, SpeechBrain's GroupNorm(1, C))", [global_norm_epsilon()], reference.exported["epsilon/global"]),
        ("SepFormer's transformer LayerNorms", sorted({norm.epsilon for norm in norms}), reference.exported["epsilon/layer"]),
    ]
    print("\nNorm epsilons, too small to move the outputs above")
    for name, ours, theirs in rows:
        same = len(ours) == len(theirs) and np.allclose(ours, theirs, rtol=1e-3)
        listed = [", ".join(f"{epsilon:.0e}" for epsilon in values) for values in (ours, theirs)]
        print(f"{name:<56} ours {listed[0]:>6}  reference {listed[1]:>6}  {'equal' if same else 'DIFFERENT'}")


def cpu_ticks() -> np.ndarray:
    """The machine's CPU time so far, by kind (user, nice, system, idle, iowait, irq, softirq, steal)."""
    return np.array(Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9], dtype=np.int64)


def compare_step_times(
    checks: list[Check], models: dict[str, keras.Model], reference: Reference, inputs: dict[str, np.ndarray], steps: int | None
) -> None:
    """Adam steps on the same batch, ours and the reference's taking turns; the first of each (tracing) not counted."""
    print(
        f"\nTraining step on this CPU ({reference.versions['threads']} torch threads): Adam, batch 2 of 2 s "
        f"({inputs['train_mixture'].shape[1]} samples; dpcl {inputs['train_log_mag'].shape[1]} frames x {N_BINS} bins), "
        "1 warm-up step then the median of the timed ones, the frameworks taking turns"
    )
    print(f"{'model':<11} {'steps':>5} {'TF s/step':>9} {'torch s/step':>12} {'TF/torch':>8} {'first loss TF':>13} {'torch':>9}")
    start = cpu_ticks()
    for check in checks:
        if not check.steps:
            continue
        model = models[check.name]
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=ARCHITECTURES[check.architecture].loss(check.settings))
        x, y = (inputs[key] for key in check.batch)
        timed = steps or check.steps
        ours, theirs, first = [], [], None
        for _ in range(timed + 1):
            begin = time.perf_counter()
            loss = float(model.train_on_batch(x, y))
            ours.append(time.perf_counter() - begin)
            reply = reference.step(check.name)
            theirs.append(reply["seconds"])
            first = first or (loss, reply["loss"])
        tf_seconds, torch_seconds = np.median(ours[1:]), np.median(theirs[1:])
        print(
            f"{check.name:<11} {timed:>5} {tf_seconds:>9.3f} {torch_seconds:>12.3f} {tf_seconds / torch_seconds:>7.2f}x "
            f"{first[0]:>13.4f} {first[1]:>9.4f}"
        )
    ticks = cpu_ticks() - start
    print(
        "    first loss: the same weights on the same batch (dpcl's two differ by the normalisation above); "
        f"CPU time the host took from this machine meanwhile (steal): {ticks[7] / ticks.sum():.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="timed training steps per model and framework (default 3, SepFormer 2)")
    args = parser.parse_args()
    start = time.perf_counter()
    tf.get_logger().setLevel("ERROR")  # predict's retracing warnings: every model is new
    params = Params.load(ROOT / "params.yaml")
    settings = reference_settings(params)
    checks = checks_at(settings)
    inputs = make_inputs(np.random.default_rng(0), params, settings["dpcl"]["embedding_dim"])
    with tempfile.TemporaryDirectory() as scratch:
        reference = Reference(Path(scratch), settings, inputs)
        versions = ", ".join(f"{name} {version}" for name, version in reference.versions.items() if name != "threads")
        print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; {versions}\n")
        models = compare_outputs(checks, reference, inputs)
        compare_norm_epsilons(models, reference)
        compare_losses(reference, inputs)
        compare_step_times(checks, models, reference, inputs, args.steps)
        reference.close()
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
