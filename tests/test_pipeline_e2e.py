"""A tiny `dvc repro` and `dvc exp run` in a temporary git repository: the pipeline as a user drives it."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from conftest import ROOT, TINY, run, set_key

from cocktail.models import ARCHITECTURES
from cocktail.startup import STARTUP_CHATTER

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the embedded corpus")

def test_repro_writes_metrics_and_examples(project):
    metrics = json.loads((project / "metrics/eval.json").read_text())
    for key in ("gnsdr", "gsir", "gsar", "sdri", "si_snri"):
        assert isinstance(metrics[key], float)
    oracle = json.loads((project / "metrics/oracle.json").read_text())
    assert oracle["ibm"]["gnsdr"] > 5.0, "ideal masks must separate far better than the mixture"
    assert sorted(p.name for p in (project / "results/examples").iterdir())[0].endswith("mixture.wav")
    assert (project / "dvclive/plots/metrics/eval/si_snri.tsv").is_file()
    assert (project / "report/index.html").is_file()


def test_stage_logs_hold_back_tensorflow_start_up_lines(project):
    log = (project.parent / "first-repro.log").read_text()
    assert "Running stage 'train'" in log and "epoch 1/" in log
    chatter = [line for line in log.splitlines() if STARTUP_CHATTER.match(line)]
    assert not chatter, chatter[:5]


def test_report_shows_every_example(project):
    page = (project / "report/index.html").read_text()
    examples = TINY["report.examples"]
    assert page.count("<section class='example'>") == examples
    assert len(list((project / "report/audio").glob("*_estimate.wav"))) == 2 * examples
    assert len(list((project / "report/figures").glob("*_spectrograms.png"))) == examples
    assert "oracle IBM" in page and "convtasnet" in page
    assert not list((project / "report/figures").glob("*_embeddings.png")), "Conv-TasNet has no embeddings to scatter"


def test_dvc_plots_show_curves_and_the_sdr_distribution(project):
    plots = json.loads(run(["dvc", "plots", "show", "--json"], project).stdout)["data"]
    assert set(plots) == {"SDR per test source (dB)", "Loss", "Validation SI-SNR improvement (dB)"}
    spec = plots["SDR per test source (dB)"][0]["content"]
    assert spec["layer"][0]["mark"]["type"] == "boxplot" and spec["encoding"]["y"]["field"] == "sdr"
    assert len(spec["data"]["values"]) == 2 * TINY["mix.test_mixtures"]


def test_second_repro_runs_nothing(project):
    result = run(["dvc", "repro"], project)
    assert "Running stage" not in result.stdout


def test_data_stages_are_deterministic(project):
    lock_before = (project / "dvc.lock").read_text()
    run(["dvc", "repro", "-f", "prepare", "mix", "features", "--single-item"], project)
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    before = yaml.safe_load(lock_before)
    for stage in ("prepare", "mix", "features"):
        assert lock["stages"][stage]["outs"] == before["stages"][stage]["outs"], stage


OTHER_MODELS = sorted(set(ARCHITECTURES) - {yaml.safe_load((ROOT / "params.yaml").read_text())["model"]})


@pytest.mark.parametrize("model", OTHER_MODELS)
def test_exp_run_other_model_runs_only_train_and_evaluate(project, model):
    result = run(["dvc", "exp", "run", "-S", f"model={model}"], project)
    assert ran_stages(result) == {"train", "evaluate", "report"}, result.stdout
    diff = run(["dvc", "metrics", "diff", "HEAD", "--json"], project)
    changed = json.loads(diff.stdout)["metrics/eval.json"]
    assert {"gnsdr", "gsir", "gsar", "sdri", "si_snri"} <= set(changed)
    train = json.loads((project / "metrics/train.json").read_text())
    assert train["model"] == model and train["parameters"] > 0
    assert train["train_seconds"] > 0 and train["real_time_factor"] > 0
    if ARCHITECTURES[model].inference.gives_masks:
        assert 0.0 <= json.loads((project / "metrics/eval.json").read_text())["mask_accuracy"] <= 1.0
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project, check=False)


def ran_stages(result: subprocess.CompletedProcess) -> set[str]:
    return {line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")}


@pytest.mark.parametrize("model", ["blstm", "danet", "convtasnet"])
def test_three_sources_end_to_end(project, model):
    """Mask nets output three masks (PIT), embedding models cluster with k = 3, Conv-TasNet outputs three."""
    run(["dvc", "exp", "run", "-S", "mix.n_sources=3", "-S", f"model={model}"], project)
    metrics = json.loads((project / "metrics/eval.json").read_text())
    assert metrics["n_sources"] == 3 and metrics["n_sources_scored"] == 3 * TINY["mix.test_mixtures"]
    assert len(list((project / "results/examples").glob("*_estimate.wav"))) == 3
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project, check=False)


def test_dpcl_trained_on_two_evaluated_on_three(project):
    """An evaluation option, no retraining: the second run only re-evaluates."""
    run(["dvc", "exp", "run", "-S", "model=dpcl"], project)
    result = run(["dvc", "exp", "run", "-S", "model=dpcl", "-S", "evaluate.n_sources=3"], project)
    assert ran_stages(result) == {"evaluate", "report"}, result.stdout
    assert len(list((project / "report/figures").glob("*_embeddings.png"))) == TINY["report.examples"]
    assert len(list((project / "report/audio").glob("*_estimate.wav"))) == 3 * TINY["report.examples"]
    sdr = json.loads(run(["dvc", "plots", "diff", "HEAD", "--json"], project).stdout)["data"]["SDR per test source (dB)"]
    assert {row["rev"] for row in sdr[0]["content"]["data"]["values"]} == {"HEAD", "workspace"}
    metrics = json.loads((project / "metrics/eval.json").read_text())
    assert metrics["n_sources"] == 3 and metrics["n_sources_scored"] == 3 * TINY["mix.test_mixtures"]
    train = json.loads((project / "metrics/train.json").read_text())
    assert train["model"] == "dpcl"
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project, check=False)


def test_meanshift_evaluation_reports_source_counts(project):
    run(["dvc", "exp", "run", "-S", "model=dpcl", "-S", "evaluate.clustering=meanshift"], project)
    metrics = json.loads((project / "metrics/eval.json").read_text())
    assert 0.0 <= metrics["source_count_accuracy"] <= 1.0
    assert metrics["n_sources_scored"] == 2 * TINY["mix.test_mixtures"]
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project, check=False)


def test_a_real_corpus_through_a_symlink(project, tmp_path):
    """The documented setup: a git-ignored symlink under data/ is prepare's dependency, so dvc.lock names the
    link, not this machine's path, and a change inside the corpus reruns prepare."""
    corpus = tmp_path / "elsewhere" / "corpus"
    rng = np.random.default_rng(0)
    for speaker in range(8):
        for utt in range(3):
            path = corpus / f"spk{speaker}" / f"{utt}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            t = np.arange(16000) / 16000
            sf.write(path, 0.3 * np.sin(2 * np.pi * (150 + 60 * speaker) * t) + 0.02 * rng.standard_normal(t.size), 16000)
    link = project / "data" / "mine"
    link.symlink_to(corpus, target_is_directory=True)
    try:
        result = run(
            ["dvc", "exp", "run", "-S", "corpus.name=folder", "-S", "corpus.root=data/mine",
             "-S", "corpus.valid_speakers=2", "-S", "corpus.test_speakers=2"], project,
        )
        assert {"prepare", "mix", "train", "evaluate"} <= ran_stages(result), result.stdout
        lock = (project / "dvc.lock").read_text()
        assert str(tmp_path) not in lock
        deps = yaml.safe_load(lock)["stages"]["prepare"]["deps"]
        assert any(d["path"] == "data/mine" and d["nfiles"] == 24 for d in deps)
        manifest = (project / "data/prepared/manifest.csv").read_text()
        assert "spk3/2.flac" in manifest and str(tmp_path) not in manifest
        (corpus / "spk0" / "0.flac").unlink()
        assert "data/mine" in run(["dvc", "status", "prepare"], project).stdout
    finally:
        link.unlink()
        run(["git", "checkout", "--", "."], project)
        run(["dvc", "checkout", "-q"], project, check=False)


def write_params(project: Path, tmp_path: Path, **overrides) -> Path:
    params = yaml.safe_load((project / "params.yaml").read_text())
    for key, value in overrides.items():
        if value is None:
            *parents, leaf = key.split(".")
            node = params
            for part in parents:
                node = node[part]
            del node[leaf]
        else:
            set_key(params, key, value)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


@pytest.mark.parametrize(
    ("stage", "overrides", "expected"),
    [
        ("train", {"model": "wavenet"}, f"Valid names: {', '.join(sorted(ARCHITECTURES))}"),
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
        ("prepare", {"corpus.name": "librivox"}, "Valid names: synthetic, timit, tsp"),
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
        ("train", {"train.strategy": "tpu_pod"}, "train.strategy is 'tpu_pod'"),
        ("train", {"train.precision": "half"}, "train.precision is 'half'"),
        ("train", {"train.dynamic_mixing": "yes"}, "params key 'train.dynamic_mixing' is 'yes'"),
        ("train", {"train.dynamic_mixing": True, "mix.n_sources": 5}, "train.dynamic_mixing draws training mixtures itself"),
    ],
)
def test_bad_params_fail_clearly_and_write_nothing(project, tmp_path, stage, overrides, expected):
    params = write_params(project, tmp_path, **overrides)
    outputs = {
        "train": "model", "mix": "data/mixtures", "features": "data/features", "prepare": "data/prepared", "oracle": "metrics/oracle.json", "evaluate": "metrics/eval.json",
        "report": "report",
    }
    before = sorted(p.name for p in (project / outputs[stage]).parent.iterdir())
    mtime = (project / outputs[stage]).stat().st_mtime
    result = run([sys.executable, f"pipeline/{stage}.py", "--params", str(params)], project, check=False)
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (project / outputs[stage]).parent.iterdir()) == before, "no temporary output left"
    assert (project / outputs[stage]).stat().st_mtime == mtime, "the previous output is untouched"


def test_dynamic_mixing_reruns_only_train_and_evaluate(project):
    """Fresh mixtures every epoch from the prepared utterances: an option of train, so the data stages stay cached."""
    result = run(["dvc", "exp", "run", "-S", "model=dpcl", "-S", "train.dynamic_mixing=true"], project)
    assert ran_stages(result) == {"train", "evaluate", "report"}, result.stdout
    assert "mixed afresh every epoch" in result.stdout
    assert json.loads((project / "metrics/train.json").read_text())["model"] == "dpcl"
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project, check=False)


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_feature_shard_stops_training_naming_it(project, damage):
    shard = project / "data/features/train/spectral-00000.npz"
    model_mtime = (project / "model").stat().st_mtime
    if damage == "truncated":
        shard.write_bytes(shard.read_bytes()[:200])
    else:
        shard.unlink()
    try:
        result = run([sys.executable, "pipeline/train.py"], project, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"data/features/train/spectral-00000.npz is {damage}" in result.stderr
        assert (project / "model").stat().st_mtime == model_mtime, "the trained model is untouched"
    finally:
        run(["dvc", "checkout", "-f", "-q", "data/features"], project)


def epoch_losses(output: str) -> list[float]:
    return [float(loss) for loss in re.findall(r"epoch \d+/\d+: loss (\S+),", output)]


def train_with(project: Path, tmp_path: Path, prefix: list[str], env: dict | None = None, **overrides) -> subprocess.Popen:
    """The train stage as its own process, with ff learning fast enough for three tiny epochs to show it."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    params = write_params(project, tmp_path, **{"model": "ff", "ff.epochs": 3, "ff.batch_size": 4, "ff.learning_rate": 0.01, **overrides})
    return subprocess.Popen(
        [*prefix, "pipeline/train.py", "--params", str(params)], cwd=project, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finished(processes: list[subprocess.Popen], timeout: float = 240) -> list[str]:
    """Every process's output; all are killed if one outlives the timeout (a worker whose peer died waits forever)."""
    outputs = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=timeout)
            assert process.returncode == 0, stderr[-3000:]
            outputs.append(stdout)
    finally:
        for process in processes:
            process.kill()
    return outputs


def restore(project: Path) -> None:
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-f", "-q"], project, check=False)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_training_learns(project, tmp_path, precision):
    try:
        (output,) = finished([train_with(project, tmp_path, [sys.executable], **{"train.precision": precision})])
        losses = epoch_losses(output)
        assert precision in output and len(losses) == 3
        assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    finally:
        restore(project)


MIRRORED_OVER_TWO_CPUS = (
    "import sys, runpy, tensorflow as tf; cpu = tf.config.list_physical_devices('CPU')[0]; "
    "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def test_mirrored_training_splits_batches_over_two_devices_and_learns(project, tmp_path):
    """Two logical CPUs stand in for two GPUs: the stage itself runs, one replica per device."""
    try:
        prefix = [sys.executable, "-c", MIRRORED_OVER_TWO_CPUS]
        (output,) = finished([train_with(project, tmp_path, prefix, **{"train.strategy": "mirrored"})])
        losses = epoch_losses(output)
        assert "2 replica(s)" in output and len(losses) == 3 and losses[-1] < losses[0], output
    finally:
        restore(project)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_workers_on_localhost_train_one_model(project, tmp_path):
    """multi_worker as a user runs it: the same stage on every worker with its own TF_CONFIG; only the chief keeps it."""
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    before = (project / "metrics/train.json").read_text()
    try:
        outputs = finished([
            train_with(
                project, tmp_path / f"worker{index}", [sys.executable],
                {"TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})},
                **{"train.strategy": "multi_worker"},
            )
            for index in range(2)
        ])
        losses = [epoch_losses(output) for output in outputs]
        assert all("2 replica(s)" in output for output in outputs)
        assert losses[0] == losses[1] and len(losses[0]) == 3 and losses[0][-1] < losses[0][0], losses
        written = json.loads((project / "metrics/train.json").read_text())
        assert written["model"] == "ff" and (project / "metrics/train.json").read_text() != before
    finally:
        restore(project)
