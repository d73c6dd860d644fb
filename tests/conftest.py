import fcntl
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

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


def tool_env() -> dict[str, str]:
    """The environment the project's tools run in: this venv's dvc and cocktail first on PATH, no analytics."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}


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
def project(tmp_path_factory, worker_id) -> Path:
    """The tiny project after its first `dvc repro` (build_project), one for the whole session: a test that changes
    its workspace puts it back (`git checkout`, `dvc checkout`) before the next one reads it. Under pytest-xdist the
    first worker to need it builds it once, under a lock, and every worker works on its own copy."""
    own = tmp_path_factory.mktemp("project")
    if worker_id == "master":
        build_project(own / "repo")
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
    return own / "repo"
