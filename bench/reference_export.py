"""The PyTorch half of bench/reference_check.py, run by it in .venv-reference (see its docstring): builds the
reference implementations seeded at the settings it is given, runs them in eval mode on the inputs it wrote, and
writes their weights, outputs, parameter counts and losses; then answers `step NAME` lines on stdin with the
seconds of one training step, so that the two frameworks' steps can alternate.

Usage: .venv-reference/bin/python bench/reference_export.py INPUTS.npz OUTPUTS.npz"""

import importlib.util
import inspect
import json
import sys
import time
import types

import numpy as np

# SpeechBrain imports torchaudio when its package loads, for audio files only; PyPI's torchaudio is built against
# CUDA torch and cannot load beside the CPU build, so the SepFormer pieces get an empty stand-in (they use none of it).
if importlib.util.find_spec("torchaudio") is None:
    sys.modules["torchaudio"] = types.ModuleType("torchaudio")

try:
    import asteroid
    import speechbrain
    import torch
    from asteroid.losses import PITLossWrapper, deep_clustering_loss, pairwise_neg_sisdr
    from asteroid.masknn.norms import GlobLN
    from asteroid.masknn.recurrent import SingleRNN
    from asteroid.models import ConvTasNet, DPRNNTasNet
    from speechbrain.lobes.models.dual_path import Decoder, Dual_Path_Model, Encoder, SBTransformerBlock
except ModuleNotFoundError as missing:
    print(json.dumps({"missing": missing.name}), flush=True)
    sys.exit(3)

N_SOURCES = 2
SEED = 0


def conv_tasnet(s: dict) -> torch.nn.Module:
    """asteroid's ConvTasNet with the ReLU encoder of the paper (asteroid's default is linear)."""
    return ConvTasNet(
        N_SOURCES, n_blocks=s["X"], n_repeats=s["R"], bn_chan=s["B"], hid_chan=s["H"], skip_chan=s["Sc"],
        conv_kernel_size=s["P"], kernel_size=s["L"], n_filters=s["N"], stride=s["L"] // 2, encoder_activation="relu",
    )


def dprnn_tasnet(s: dict) -> torch.nn.Module:
    return DPRNNTasNet(
        N_SOURCES, bn_chan=s["B"], hid_size=s["H"], chunk_size=s["K"], n_repeats=s["R"], bidirectional=s["bidirectional"],
        kernel_size=s["L"], n_filters=s["N"], stride=s["L"] // 2,
    )


class SepFormer(torch.nn.Module):
    """SpeechBrain's wsj0-2mix SepFormer: the modules of recipes/WSJ0Mix/separation/hparams/sepformer.yaml, joined as
    its train.py compute_forward joins them. (batch, samples) -> (batch, sources, samples)."""

    def __init__(self, s: dict):
        super().__init__()
        self.encoder = Encoder(kernel_size=s["L"], out_channels=s["N"])

        def transformer():
            return SBTransformerBlock(
                num_layers=s["layers"], d_model=s["d_model"], nhead=s["heads"], d_ffn=s["d_ffn"], dropout=0,
                use_positional_encoding=True, norm_before=True,
            )

        self.masknet = Dual_Path_Model(
            num_spks=N_SOURCES, in_channels=s["N"], out_channels=s["d_model"], num_layers=s["blocks"], K=s["K"],
            intra_model=transformer(), inter_model=transformer(), norm="ln", linear_layer_after_inter_intra=False,
            skip_around_intra=True,
        )
        self.decoder = Decoder(in_channels=s["N"], out_channels=1, kernel_size=s["L"], stride=s["L"] // 2, bias=False)

    def forward(self, mixture):
        frames = self.encoder(mixture)
        masked = torch.stack([frames] * N_SOURCES) * self.masknet(frames)
        sources = torch.stack([self.decoder(masked[i]) for i in range(N_SOURCES)], dim=1)
        missing = mixture.shape[-1] - sources.shape[-1]
        return torch.nn.functional.pad(sources, (0, missing)) if missing > 0 else sources[..., : mixture.shape[-1]]


class DeepClustering(torch.nn.Module):
    """The deep-clustering branch of asteroid's Chimera++ recipe (egs/wsj0-mix/DeepClustering/model.py; the pip
    package ships no Chimera model): asteroid's SingleRNN BLSTM stack, a linear layer to bins x D, tanh, unit length.
    Built without take_log: it is given the same normalised log magnitudes as ours.
    (batch, frames, bins) -> (batch, bins * frames, D), bins major as the recipe and asteroid's loss expect."""

    def __init__(self, s: dict, n_bins: int):
        super().__init__()
        self.rnn = SingleRNN("lstm", n_bins, s["hidden"], n_layers=s["layers"], dropout=s["dropout"], bidirectional=True)
        self.embedding_layer = torch.nn.Linear(2 * s["hidden"], n_bins * s["embedding_dim"])

    def forward(self, log_mag):
        batch, frames, bins = log_mag.shape
        projection = torch.tanh(self.embedding_layer(self.rnn(log_mag)))
        projection = projection.view(batch, frames, bins, -1).transpose(1, 2).reshape(batch, bins * frames, -1)
        return projection / (torch.norm(projection, p=2, dim=-1, keepdim=True) + 1e-8)


def seeded(build, *args) -> torch.nn.Module:
    """Built from the seed, then every tensor scaled by 1 + 0.1·noise and shifted by 0.05·noise: at initialisation norm
    gains are 1, biases 0 and SpeechBrain's repeated blocks copies of one another, where a mapping mistake would hide."""
    torch.manual_seed(SEED)
    model = build(*args)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(1 + 0.1 * torch.randn_like(parameter)).add_(0.05 * torch.randn_like(parameter))
    return model


def separate(name: str, model: torch.nn.Module, mixture, settings: dict):
    """The reference's sources for our input. Ours pads Conv-TasNet "same": asteroid sees L/4 zeros each side and its
    output loses L/4 samples each side."""
    if not name.startswith("convtasnet"):
        return model(mixture)
    quarter = settings[name]["L"] // 4
    return model(torch.nn.functional.pad(mixture, (quarter, quarter)))[..., quarter:-quarter]


def norm_epsilons(models) -> dict[str, np.ndarray]:
    """The epsilons of the references' norms, too small to show in their outputs: whole-signal ones (asteroid's gLN,
    which takes it as a default argument, and GroupNorm(1, C)) and SpeechBrain's transformer LayerNorms."""
    found = {"global": set(), "layer": set()}
    for module in (module for model in models for module in model.modules()):
        if isinstance(module, GlobLN):
            found["global"].add(inspect.signature(module.forward).parameters["EPS"].default)
        elif isinstance(module, torch.nn.GroupNorm):
            found["global"].add(module.eps)
        elif isinstance(module, torch.nn.LayerNorm):
            found["layer"].add(module.eps)
    return {f"epsilon/{kind}": np.array(sorted(values)) for kind, values in found.items()}


def dc_loss(embeddings, targets):
    """asteroid's deep-clustering loss of (batch, bins * frames, D) embeddings, bins major, from our
    (batch, frames, bins, C + 1) packing of IBM and voice activity."""
    per_bin = targets.transpose(1, 2)  # bins major, as the embeddings
    return deep_clustering_loss(embeddings, per_bin[..., :-1].argmax(-1), per_bin[..., -1].contiguous())


def main() -> None:
    inputs = np.load(sys.argv[1])
    settings = json.loads(str(inputs["settings"]))
    tensor = {key: torch.from_numpy(inputs[key]) for key in inputs.files if key != "settings"}
    n_bins = tensor["log_mag"].shape[-1]
    references = {
        "convtasnet": seeded(conv_tasnet, settings["convtasnet"]),
        "convtasnet_asteroid": seeded(conv_tasnet, settings["convtasnet_asteroid"]),
        "dprnn": seeded(dprnn_tasnet, settings["dprnn"]),
        "sepformer": seeded(SepFormer, settings["sepformer"]),
        "dpcl": seeded(DeepClustering, settings["dpcl"], n_bins),
    }
    results = {}
    with torch.no_grad():
        for name, model in references.items():
            model.eval()
            output = model(tensor["log_mag"]) if name == "dpcl" else separate(name, model, tensor["mixture"], settings)
            results[f"{name}/output"] = output.numpy()
            results[f"{name}/count"] = np.array(sum(p.numel() for p in model.parameters()))
            results.update({f"{name}/weight/{key}": p.numpy() for key, p in model.named_parameters()})
        pit = PITLossWrapper(pairwise_neg_sisdr, pit_from="pw_mtx")
        results["loss/pit"] = pit(tensor["pit_estimates"], tensor["pit_sources"]).numpy()
        bins_major = tensor["dc_embeddings"].transpose(1, 2).flatten(1, 2)
        results["loss/dc"] = dc_loss(bins_major, tensor["dc_targets"]).numpy()
    results.update(norm_epsilons(references.values()))
    np.savez(sys.argv[2], **results)
    versions = {"torch": torch.__version__, "asteroid": asteroid.__version__, "SpeechBrain": speechbrain.__version__}
    print(json.dumps({"versions": {**versions, "threads": torch.get_num_threads()}}), flush=True)
    serve_training_steps(references, tensor, settings)


def serve_training_steps(references: dict, tensor: dict, settings: dict) -> None:
    """One Adam step per `step NAME` line, on the same batch each time, answered with its seconds."""
    optimisers = {}
    for line in sys.stdin:
        name = line.split()[1]
        model = references[name]
        if name not in optimisers:
            model.train()
            optimisers[name] = torch.optim.Adam(model.parameters(), lr=1e-3)
        start = time.perf_counter()
        optimisers[name].zero_grad()
        if name == "dpcl":
            loss = dc_loss(model(tensor["train_log_mag"]), tensor["train_targets"]).mean()
        else:
            estimates = separate(name, model, tensor["train_mixture"], settings)
            loss = PITLossWrapper(pairwise_neg_sisdr, pit_from="pw_mtx")(estimates, tensor["train_sources"])
        loss.backward()
        optimisers[name].step()
        print(json.dumps({"seconds": time.perf_counter() - start, "loss": loss.item()}), flush=True)


if __name__ == "__main__":
    main()
