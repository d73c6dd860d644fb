"""A tiny `dvc repro` and `dvc exp run` in a temporary git repository: the pipeline as a user drives it."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import yaml
from conftest import FIRST_REPRO, TINY, ran_stages, run, set_key, stage_command, tool_env

from cocktail.models import ARCHITECTURES
from cocktail.startup import STARTUP_CHATTER

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the embedded corpus")

def test_repro_writes_metrics_and_examples(project):
    metrics = json.loads((project / "metrics/eval.json").read_text())
    for key in ("gnsdr", "gsir", "gsar", "sdri", "si_snri"):
        assert isinstance(metrics[key], float)
    train = json.loads((project / "metrics/train.json").read_text())
    model = yaml.safe_load((project / "params.yaml").read_text())["model"]
    assert train["model"] == metrics["model"] == model and train["parameters"] > 0
    assert train["train_seconds"] > 0 and train["real_time_factor"] > 0
    assert ("mask_accuracy" in metrics) == ARCHITECTURES[model].inference.gives_masks
    oracle = json.loads((project / "metrics/oracle.json").read_text())
    assert oracle["ibm"]["gnsdr"] > 5.0, "ideal masks must separate far better than the mixture"
    assert sorted(p.name for p in (project / "results/examples").iterdir())[0].endswith("mixture.wav")
    assert (project / "dvclive/plots/metrics/eval/si_snri.tsv").is_file()
    assert (project / "report/index.html").is_file()


def test_stage_logs_hold_back_tensorflow_start_up_lines(project):
    log = (project.parent / FIRST_REPRO).read_text()
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


def restore(project: Path) -> None:
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-f", "-q"], project, check=False)


def exp_run(project: Path, *settings: str) -> subprocess.CompletedProcess:
    return run(["dvc", "exp", "run", *[arg for setting in settings for arg in ("-S", setting)]], project)


def outcome(project: Path, result: subprocess.CompletedProcess) -> SimpleNamespace:
    """What an experiment left in the workspace, read before the workspace is put back for the next test."""
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", "--json"], project).stdout)
    return SimpleNamespace(
        stdout=result.stdout,
        ran=ran_stages(result),
        eval=json.loads((project / "metrics/eval.json").read_text()),
        train=json.loads((project / "metrics/train.json").read_text()),
        changed=set(diff.get("metrics/eval.json", {})),
        examples=sorted(p.name for p in (project / "results/examples").iterdir()),
        report=sorted(str(p.relative_to(project / "report")) for p in (project / "report").rglob("*") if p.is_file()),
    )


# One experiment per inference kind, each run once and shared by the tests that read it; the per-architecture
# wiring (build, loss, one training step, separate, save and load) is tests/models/test_models.py's, and fit() through
# shards tests/engine/test_training.py's. Mask: test_noisy_e2e's three speakers in noise and rooms; time domain: the
# project's own first run (convtasnet, above) and tests/report/test_review.py's dprnn experiment.


@pytest.fixture(scope="module")
def clustering(project):
    """dpcl trained on mixtures drawn afresh every epoch and scored with mean-shift; then, from that workspace, the
    same model scored on three speakers with k-means: one training for the clustering kind, dynamic mixing, mean-shift
    and a source count the model was not trained on."""
    try:
        trained = outcome(project, exp_run(project, "model=dpcl", "train.dynamic_mixing=true", "evaluate.clustering=meanshift"))
        three = outcome(project, exp_run(project, "evaluate.n_sources=3", "evaluate.clustering=kmeans"))
        three.sdr_plot = json.loads(run(["dvc", "plots", "diff", "HEAD", "--json"], project).stdout)["data"]["SDR per test source (dB)"]
    finally:
        restore(project)
    return trained, three


@pytest.fixture(scope="module")
def own_corpus(project, tmp_path_factory):
    """The documented setup for a real corpus: a git-ignored symlink under data/ is prepare's dependency. Scored with
    the dictionary model (NMF), which needs the corpus's speaker identities."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    corpus = elsewhere / "corpus"
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
        result = exp_run(
            project, "corpus.name=folder", "corpus.root=data/mine", "corpus.valid_speakers=2", "corpus.test_speakers=2", "model=nmf"
        )
        seen = outcome(project, result)
        seen.elsewhere = str(elsewhere)
        seen.lock = (project / "dvc.lock").read_text()
        seen.manifest = (project / "data/prepared/manifest.csv").read_text()
        (corpus / "spk0" / "0.flac").unlink()
        seen.status_after_a_change = run(["dvc", "status", "prepare"], project).stdout
    finally:
        link.unlink()
        restore(project)
    return seen


@pytest.fixture(scope="module")
def clustering_trained(clustering):
    return clustering[0]


KINDS = {"clustering": ("clustering_trained", "dpcl"), "dictionary": ("own_corpus", "nmf")}  # mask: test_noisy_e2e


def assert_trained_and_scored(seen: SimpleNamespace, kind: str, model: str) -> None:
    """What every inference kind's experiment must leave: the model trained, scored, and its metrics changed."""
    assert ARCHITECTURES[model].inference.name == kind, f"{model} no longer stands for the {kind} kind: pick another"
    assert {"train", "evaluate", "report"} <= seen.ran, seen.stdout
    assert {"gnsdr", "gsir", "gsar", "sdri", "si_snri"} <= seen.changed
    assert seen.train["model"] == model and seen.train["parameters"] > 0
    assert seen.train["train_seconds"] > 0 and seen.train["real_time_factor"] > 0
    assert seen.eval["model"] == model
    if ARCHITECTURES[model].inference.gives_masks:
        assert 0.0 <= seen.eval["mask_accuracy"] <= 1.0


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_inference_kind_trains_and_is_scored_through_the_pipeline(request, kind):
    fixture, model = KINDS[kind]
    assert_trained_and_scored(request.getfixturevalue(fixture), kind, model)


def test_exp_run_other_model_runs_only_train_and_evaluate(clustering_trained):
    """Another model than the committed one: the data stages and the oracle stay cached."""
    trained = clustering_trained
    assert trained.ran == {"train", "evaluate", "report"}, trained.stdout


def test_dynamic_mixing_reruns_only_train_and_evaluate(clustering_trained):
    """Fresh mixtures every epoch from the prepared utterances: an option of train, so the data stages stay cached."""
    trained = clustering_trained
    assert trained.ran == {"train", "evaluate", "report"}, trained.stdout
    assert "mixed afresh every epoch" in trained.stdout and "from the features stage" not in trained.stdout


def test_meanshift_evaluation_reports_source_counts(clustering_trained):
    trained = clustering_trained
    assert trained.eval["clustering"] == "meanshift"
    assert 0.0 <= trained.eval["source_count_accuracy"] <= 1.0
    assert trained.eval["n_sources_scored"] == 2 * TINY["mix.test_mixtures"]


def test_dpcl_trained_on_two_evaluated_on_three(clustering):
    """An evaluation option, no retraining: the second run only re-evaluates."""
    _, three = clustering
    assert three.ran == {"evaluate", "report"}, three.stdout
    examples = TINY["report.examples"]
    assert len([f for f in three.report if f.endswith("_embeddings.png")]) == examples
    assert len([f for f in three.report if f.endswith("_estimate.wav")]) == 3 * examples
    assert {row["rev"] for row in three.sdr_plot[0]["content"]["data"]["values"]} == {"HEAD", "workspace"}
    assert three.eval["n_sources"] == 3 and three.eval["n_sources_scored"] == 3 * TINY["mix.test_mixtures"]
    assert three.eval["clustering"] == "kmeans" and "source_count_accuracy" not in three.eval
    assert three.train["model"] == "dpcl"


def test_a_real_corpus_through_a_symlink(own_corpus):
    """dvc.lock names the link, not this machine's path, and a change inside the corpus reruns prepare."""
    seen = own_corpus
    assert {"prepare", "mix", "train", "evaluate"} <= seen.ran, seen.stdout
    assert seen.elsewhere not in seen.lock
    deps = yaml.safe_load(seen.lock)["stages"]["prepare"]["deps"]
    assert any(d["path"] == "data/mine" and d["nfiles"] == 24 for d in deps)
    assert "spk3/2.flac" in seen.manifest and seen.elsewhere not in seen.manifest
    assert "data/mine" in seen.status_after_a_change


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


# The stages' own imports (TensorFlow, Keras, scikit-learn, matplotlib: 10-15 s a process here) paid once: each
# request forks this process and runs `python pipeline/<stage>.py ARGS` in the child, with its own stdout, stderr
# and exit status, so what a test sees is what the command gives, less the start-up time.
STAGE_RUNNER = r"""
import json, os, runpy, sys, tempfile, traceback
for stage in sys.argv[1:]:
    runpy.run_path(f"pipeline/{stage}.py", run_name="preloaded")  # imports only: main runs under "__main__"
answers = os.fdopen(os.dup(1), "w")
for line in sys.stdin:
    request = json.loads(line)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush(); sys.stderr.flush(); answers.flush()
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0); os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
            sys.argv = request["command"]
            code = 0
            try:
                exec(request["setup"], {})  # what must come before TensorFlow starts (logical devices)
                runpy.run_path(sys.argv[0], run_name="__main__")
            except SystemExit as stop:
                if isinstance(stop.code, int) or stop.code is None:
                    code = stop.code or 0
                else:
                    print(stop.code, file=sys.stderr)
                    code = 1
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0); err.seek(0)
        answer = {"returncode": os.waitstatus_to_exitcode(status), "stdout": out.read().decode(errors="replace"),
                  "stderr": err.read().decode(errors="replace")}
    answers.write(json.dumps(answer) + "\n"); answers.flush()
"""
STAGES = ("prepare", "mix", "features", "train", "evaluate", "oracle", "report")


class StageRunner:
    def __init__(self, project: Path):
        self.project = project
        self.log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            [sys.executable, "-c", STAGE_RUNNER, *STAGES], cwd=project, env=tool_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True,
        )

    def __call__(self, stage: str, *args: str, setup: str = "", timeout: float = 300) -> subprocess.CompletedProcess:
        """The stage's command from dvc.yaml, with ARGS, run in the project (after the Python code `setup`), as a
        completed process."""
        argv = [*stage_command(self.project, stage), *args]
        command = " ".join(argv)
        if self.process.poll() is not None:
            raise AssertionError(f"{command}: the stage runner is gone ({self.reason()})")
        self.process.stdin.write(json.dumps({"command": argv, "setup": setup}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            reason = self.reason()
            self.close(wait=0)
            raise AssertionError(f"{command} gave no answer in {timeout} s ({reason})")
        answer = json.loads(line)
        return subprocess.CompletedProcess(argv, answer["returncode"], answer["stdout"], answer["stderr"])

    def reason(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:] or "the runner wrote nothing to stderr"

    def close(self, wait: float = 30) -> None:
        """Stops the runner, and any stage it is still running (a hung one): they share their own process group."""
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def stages(project):
    runner = StageRunner(project)
    yield runner
    runner.close()


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


def epoch_losses(output: str) -> list[float]:
    return [float(loss) for loss in re.findall(r"epoch \d+/\d+: loss (\S+),", output)]


def ff_params(project: Path, tmp_path: Path, **overrides) -> Path:
    """ff learning fast enough for three tiny epochs to show it."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    return write_params(project, tmp_path, **{"model": "ff", "ff.epochs": 3, "ff.batch_size": 4, "ff.learning_rate": 0.01, **overrides})


def train_with(project: Path, tmp_path: Path, prefix: list[str], env: dict | None = None, **overrides) -> subprocess.Popen:
    """The train stage as its own process, as a user starts it on each machine of a cluster."""
    params = ff_params(project, tmp_path, **overrides)
    return subprocess.Popen(
        [*prefix, *stage_command(project, "train"), "--params", str(params)], cwd=project, env={**os.environ, **(env or {})},
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


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_training_learns(project, stages, tmp_path, precision):
    try:
        result = stages("train", "--params", str(ff_params(project, tmp_path, **{"train.precision": precision})))
        assert result.returncode == 0, result.stderr[-3000:]
        output = result.stdout
        losses = epoch_losses(output)
        assert precision in output and len(losses) == 3
        assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    finally:
        restore(project)


TWO_LOGICAL_CPUS = (
    "import tensorflow as tf; cpu = tf.config.list_physical_devices('CPU')[0]; "
    "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)"
)


def test_mirrored_training_splits_batches_over_two_devices_and_learns(project, stages, tmp_path):
    """Two logical CPUs stand in for two GPUs: the stage itself runs, one replica per device."""
    try:
        params = ff_params(project, tmp_path, **{"train.strategy": "mirrored"})
        result = stages("train", "--params", str(params), setup=TWO_LOGICAL_CPUS)
        assert result.returncode == 0, result.stderr[-3000:]
        losses = epoch_losses(result.stdout)
        assert "2 replica(s)" in result.stdout and len(losses) == 3 and losses[-1] < losses[0], result.stdout
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
