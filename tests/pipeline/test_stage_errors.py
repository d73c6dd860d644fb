"""Bad params and damaged inputs stop each stage with one clear message and leave its previous output alone; run
through the module's stage runner (conftest.StageRunner), a client of the worker's stage server (tests/stage_server.py),
which pays the stages' imports once."""


import pytest
from conftest import run, write_params

from cocktail.models import ARCHITECTURES


@pytest.mark.parametrize(
    ("stage", "overrides", "expected"),
    [
        ("train", {"model": "wavenet"}, f"use one of {', '.join(sorted(ARCHITECTURES))}"),
        ("train", {"danet.mask_activation": "relu", "model": "danet"}, "danet.mask_activation"),
        ("train", {"ff.permutation": "sorted", "model": "ff"}, "ff.permutation"),
        ("evaluate", {"evaluate.n_sources": 3}, "evaluate.n_sources"),
        ("evaluate", {"evaluate.clustering": "meanshift"}, "evaluate.clustering"),
        ("evaluate", {"evaluate.clustering": "spectral"}, "evaluate.clustering"),
        ("evaluate", {"corpus.sample_rate": 16000}, "trained at 8000 Hz"),
        ("report", {"corpus.sample_rate": 16000}, "trained at 8000 Hz"),
        ("train", {"dpcl.embedding_dim": None, "model": "dpcl"}, "dpcl.embedding_dim"),
        ("mix", {"mix.n_sources": None}, "mix.n_sources"),
        ("prepare", {"corpus.name": "folder", "corpus.root": "/nonexistent/corpus"}, "/nonexistent/corpus"),
        ("prepare", {"corpus.name": "timit", "corpus.root": "data/synthetic"}, "expected TRAIN/ and TEST/ folders"),
        ("prepare", {"corpus.name": "librivox"}, "use one of synthetic, timit, tsp"),
        ("train", {"blstm.permutation": "sorted", "model": "blstm"}, "blstm.permutation"),
        ("oracle", {"oracle.masks": ["ideal"]}, "oracle.masks"),
        ("mix", {"mix.length": "max"}, "mix.length"),
        ("report", {"report.examples": None}, "report.examples"),
        ("mix", {"mix.n_sources": 0}, "params key 'mix.n_sources' is 0"),
        ("mix", {"mix.ratio_db": -3}, "params key 'mix.ratio_db' is -3"),
        ("mix", {"mix.train_mixtures": 0}, "params key 'mix.train_mixtures' is 0"),
        ("features", {"features.hop_length": 0}, "params key 'features.hop_length' is 0"),
        ("features", {"features.chunk_frames": 0}, "params key 'features.chunk_frames' is 0"),
        ("prepare", {"corpus.sample_rate": 0}, "params key 'corpus.sample_rate' is 0"),
        ("train", {"convtasnet.learning_rate": -1, "model": "convtasnet"}, "params key 'convtasnet.learning_rate' is -1"),
        ("train", {"train.strategy": "tpu_pod"}, "params key 'train.strategy' is 'tpu_pod'"),
        ("train", {"train.precision": "half"}, "params key 'train.precision' is 'half'"),
        ("train", {"train.dynamic_mixing": "yes"}, "params key 'train.dynamic_mixing' is 'yes'"),
        ("train", {"train.dynamic_mixing": True, "mix.n_sources": 5}, "train.dynamic_mixing draws training mixtures itself"),
    ],
)
def test_bad_params_fail_clearly_and_write_nothing(project, stages, tmp_path, stage, overrides, expected):
    params = write_params(project, tmp_path, **overrides)
    outputs = {
        "train": "model", "mix": "data/mixtures", "features": "data/features", "prepare": "data/prepared", "oracle": "metrics/oracle.json", "evaluate": "metrics/eval.json",
        "report": "report",
    }
    before = sorted(p.name for p in (project / outputs[stage]).parent.iterdir())
    mtime = (project / outputs[stage]).stat().st_mtime
    result = stages(stage, "--params", str(params))
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (project / outputs[stage]).parent.iterdir()) == before, "no temporary output left"
    assert (project / outputs[stage]).stat().st_mtime == mtime, "the previous output is untouched"


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_feature_shard_stops_training_naming_it(project, stages, damage):
    shard = project / "data/features/train/spectral-00000.npz"
    model_mtime = (project / "model").stat().st_mtime
    if damage == "truncated":
        shard.write_bytes(shard.read_bytes()[:200])
    else:
        shard.unlink()
    try:
        result = stages("train")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"data/features/train/spectral-00000.npz is {damage}" in result.stderr
        assert (project / "model").stat().st_mtime == model_mtime, "the trained model is untouched"
    finally:
        run(["dvc", "checkout", "-f", "-q", "data/features"], project)
