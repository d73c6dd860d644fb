import fcntl
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from stage_server import SOCKET_ENV, run_forked, shim_dir

from cocktail.data.corpora import reader_settings, scan_corpus
from cocktail.data.corpora.base import Corpus
from cocktail.data.prepare import prepare_corpus
from cocktail.dsp.spectral import Normaliser, SpectralSettings
from cocktail.dsp.stft import StftConfig
from cocktail.models import ARCHITECTURES
from cocktail.params import Params

SAMPLE_RATE = 8000
ROOT = Path(__file__).resolve().parents[1]
PARAMS_READ = "params-read.txt"  # beside the session's project: the params keys each stage read in its first run
FIRST_REPRO = "first-repro.log"  # beside it too: what that run printed


# The longest modules, in the order the two pytest-xdist workers start them (--dist loadscope keeps a module on one
# worker; --no-loadscope-reorder keeps this order): longest first, so that none of them starts last while the other
# worker idles. Seconds of one worker in a fresh clone on 2026-12-04 evening: test_models 85 runs while the other
# worker builds the session's project for test_noisy_e2e (138 with it); then review 69, training e2e 35, own corpus
# 45, clustering 36, test_training 50, test_distribute 26, test_separate 43, stage errors 12: both workers ended within
# 5 s of each other. Every other module follows, as collected.
LONGEST_FIRST = (
    "tests/models/test_models.py",
    "tests/pipeline/test_noisy_e2e.py",
    "tests/report/test_review.py",
    "tests/pipeline/test_own_corpus_e2e.py",
    "tests/pipeline/test_training_e2e.py",
    "tests/pipeline/test_clustering_e2e.py",
    "tests/engine/test_training.py",
    "tests/engine/test_distribute.py",
    "tests/inference/test_separate.py",
    "tests/pipeline/test_stage_errors.py",
)


def pytest_collection_modifyitems(items):
    missing = [module for module in LONGEST_FIRST if not (ROOT / module).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FIRST names {', '.join(missing)}, which is gone: update it.")
    rank = {module: index for index, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def two_sources(rng):
    """(2, 4000) float32: a 440 Hz sine and a 1.3 kHz sine with a little noise, 0.5 s at 8 kHz."""
    t = np.arange(4000) / SAMPLE_RATE
    low = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)
    high = 0.3 * np.sin(2 * np.pi * 1300 * t) + 0.01 * rng.standard_normal(t.size)
    return np.stack([low, high]).astype(np.float32)


TINY = {
    "synthetic.n_voices": 10,
    "synthetic.sentences_per_voice": 4,
    "corpus.valid_speakers": 3,
    "corpus.test_speakers": 3,
    "mix.train_mixtures": 24,
    "mix.valid_mixtures": 4,
    "mix.test_mixtures": 3,
    "train.valid_mixtures": 2,
    "evaluate.examples": 1,
    "report.examples": 1,
    "report.scatter_points": 200,
    **{
        f"{name}.{key}": value
        for name, architecture in ARCHITECTURES.items()
        for key, value in {**architecture.tiny, **({"epochs": 1} if architecture.trained_by_gradient else {})}.items()
    },
}


def scan_with(params: Params) -> Corpus:
    return scan_corpus(params["corpus.name"], params["corpus.root"], reader_settings(params))


def prepare_with(params: Params, out_dir: Path, shown_dir: str | None = None):
    return prepare_corpus(params.section("corpus"), reader_settings(params), int(params["seed"]), out_dir, shown_dir)


# Every architecture at its tiny settings with a one-epoch budget, and the spectral settings of 8 kHz audio with the
# default STFT and an identity normaliser: what unit tests build models from.
BUDGET = {"epochs": 1, "batch_size": 2, "learning_rate": 0.001}
SECTIONS = {name: {**arch.tiny, **(BUDGET if arch.trained_by_gradient else {})} for name, arch in ARCHITECTURES.items()}
KERAS_MODELS = sorted(name for name, arch in ARCHITECTURES.items() if arch.trained_by_gradient)
SPECTRAL = SpectralSettings(StftConfig(), 40.0, 8000, Normaliser(np.zeros(129, np.float32), np.ones(129, np.float32)))


def set_key(params: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = params
    for part in parents:
        node = node[part]
    node[leaf] = value


STAGE_SERVER: dict[str, str] = {}  # the session's stage server, once it runs: its socket and its `python` shim's folder


def tool_env() -> dict[str, str]:
    """The environment the project's tools run in: this venv's dvc and cocktail first on PATH, no analytics; once the
    session's stage server runs, `python pipeline/<stage>.py` goes to it (tests/stage_server.py)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    if STAGE_SERVER:
        env.update(PATH=f"{STAGE_SERVER['shim']}{os.pathsep}{env['PATH']}", **{SOCKET_ENV: STAGE_SERVER["socket"]})
    return env


def stage_command(project: Path, stage: str) -> list[str]:
    """`pipeline/<stage>.py` and the path arguments dvc.yaml's cmd gives it, as DVC resolved them in dvc.lock."""
    cmd = yaml.safe_load((project / "dvc.lock").read_text())["stages"][stage]["cmd"]
    return shlex.split(cmd)[1:]


def run(cmd: list[str], cwd: Path, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env={**tool_env(), **(env or {})}, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def ran_stages(result: subprocess.CompletedProcess) -> set[str]:
    """The stages a `dvc repro` or `dvc exp run` ran, from what it printed."""
    return {line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")}


def build_project(repo: Path) -> None:
    """A copy of the project with tiny params in `repo`, committed in a fresh git repository, after one `dvc repro`
    that records the params keys each stage reads (tests/params_read) beside it."""
    repo.mkdir(parents=True)
    for name in ("dvc.yaml", "pipeline", "src", "data/synthetic", "data/noise"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, repo / name)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for key, value in TINY.items():
        set_key(params, key, value)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (repo / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "test@example.com"], repo)
    run(["git", "config", "user.name", "test"], repo)
    run(["dvc", "init", "-q"], repo)
    shutil.copytree(ROOT / ".dvc" / "plots", repo / ".dvc" / "plots")
    shutil.copy(ROOT / ".dvcignore", repo / ".dvcignore")
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "tiny project"], repo)
    recorder = {"PYTHONPATH": str(ROOT / "tests" / "params_read"), "COCKTAIL_PARAMS_READ": str(repo.parent / PARAMS_READ)}
    first = run(["dvc", "repro"], repo, env=recorder)
    (repo.parent / FIRST_REPRO).write_text(first.stdout + first.stderr)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "first run"], repo)


@pytest.fixture(scope="session")
def stage_server(tmp_path_factory):
    """This worker's stage server (tests/stage_server.py), its socket's path as the value; every stage command the
    tests start from now on runs in a child of it."""
    folder = tmp_path_factory.mktemp("stage-server")
    socket_path = str(folder / "socket")
    with open(folder / "server.log", "w+") as log:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "stage_server.py"), "serve", socket_path], cwd=ROOT, env=tool_env(),
            stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
        )
        try:
            ready, _, _ = select.select([server.stdout], [], [], 300)
            if not ready or server.stdout.readline().strip() != "ready":
                log.seek(0)
                raise AssertionError(f"the stage server did not start:\n{log.read()[-3000:]}")
            STAGE_SERVER.update(socket=socket_path, shim=str(shim_dir(folder)))
            yield socket_path
        finally:
            STAGE_SERVER.clear()
            os.killpg(server.pid, signal.SIGKILL)  # with any stage still running in it
            server.wait()


@pytest.fixture(scope="session")
def project(tmp_path_factory, worker_id, request) -> Path:
    """The tiny project after its first `dvc repro` (build_project), one for the whole session: a test that changes
    its workspace puts it back (`git checkout`, `dvc checkout`) before the next one reads it. Under pytest-xdist the
    first worker to need it builds it once, under a lock, and every worker works on its own copy. From then on the
    worker's stage server runs the stage commands the tests start (`stage_server`)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng speaks the embedded corpus the project is built from")
    own = tmp_path_factory.mktemp("project")
    if worker_id == "master":
        build_project(own / "repo")
        request.getfixturevalue("stage_server")
        return own / "repo"
    shared = tmp_path_factory.getbasetemp().parent / "built-project"  # the session's folder, which the workers share
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / FIRST_REPRO).is_file():  # not built yet, or a build that failed part-way
            shutil.rmtree(shared, ignore_errors=True)
            build_project(shared / "repo")
    shutil.copytree(shared / "repo", own / "repo", symlinks=True)
    for name in (PARAMS_READ, FIRST_REPRO):
        shutil.copy(shared / name, own / name)
    request.getfixturevalue("stage_server")
    return own / "repo"


# Helpers of the end-to-end modules (tests/pipeline/test_*_e2e.py, tests/report/test_review.py): experiments run in
# the session's project, and a stage runner for the many short stage runs that check errors.

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

# One experiment per inference kind, each run once in its own module and shared by that module's tests: clustering
# test_clustering_e2e, dictionary test_own_corpus_e2e, mask test_noisy_e2e (three speakers in noise and rooms), time
# domain the project's own first run (convtasnet) and tests/report/test_review.py's dprnn experiment. The
# per-architecture wiring (build, loss, one training step, separate, save and load) is tests/models/test_models.py's,
# and fit() through shards tests/engine/test_training.py's.

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

class StageRunner:
    """The stages of `project` run in children of the session's stage server (tests/stage_server.py), with their
    output captured: for the many short stage runs that check errors."""

    def __init__(self, project: Path, socket_path: str):
        self.project = project
        self.socket_path = socket_path

    def __call__(self, stage: str, *args: str, setup: str = "", timeout: float = 300) -> subprocess.CompletedProcess:
        """The stage's command from dvc.yaml, with ARGS, run in the project (after the Python code `setup`), as a
        completed process."""
        argv = [*stage_command(self.project, stage), *args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, open(os.devnull) as null:
            streams = (null.fileno(), out.fileno(), err.fileno())
            try:
                code = run_forked(self.socket_path, argv, str(self.project), tool_env(), streams, setup, timeout)
            except TimeoutError:
                raise AssertionError(f"{' '.join(argv)} gave no answer in {timeout} s") from None
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(argv, code, out.read().decode(errors="replace"), err.read().decode(errors="replace"))


@pytest.fixture(scope="module")
def stages(project, stage_server):
    return StageRunner(project, stage_server)
