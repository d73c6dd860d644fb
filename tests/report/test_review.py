"""`cocktail review` and the team loop it serves: a DVC remote (a local folder here, S3 or SSH for a team) and a bare
git repository as `origin`. Clone A runs an experiment and pushes it; clone B pulls it, reviews it, reads its metrics,
applies it and separates a recording with its model, training nothing; the review's own tests read clone A.

The experiment (dprnn) is also the suite's `dvc exp run` of a time-domain model; tests/pipeline/test_*_e2e.py run
one for each other inference kind."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import yaml
from conftest import ROOT, ran_stages, run


def cocktail(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([Path(sys.executable).parent / "cocktail", *map(str, args)], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def team(project, tmp_path_factory):
    """Clone A of the tiny project, its `origin` and its DVC remote, after it ran and pushed the experiment 'dual-path'."""
    root = tmp_path_factory.mktemp("team")
    origin, storage, a = (root / name for name in ("origin.git", "storage", "a"))
    run(["git", "init", "-q", "--bare", str(origin)], root)
    shutil.copytree(project, a, symlinks=True)
    run(["git", "checkout", "-q", "--", "."], a)
    run(["git", "remote", "add", "origin", str(origin)], a)
    run(["dvc", "remote", "add", "-d", "team", str(storage)], a)
    run(["git", "commit", "-qam", "the team's remote"], a)
    run(["git", "push", "-q", "origin", "HEAD:main"], a)
    run(["dvc", "push", "-q"], a)
    result = run(["dvc", "exp", "run", "-n", "dual-path", "-S", "model=dprnn"], a)
    run(["dvc", "exp", "push", "origin", "dual-path"], a)
    return SimpleNamespace(origin=origin, a=a, ran=ran_stages(result))


@pytest.fixture(scope="module")
def reviewed(team, tmp_path_factory):
    """A copy of clone A without `origin`: the experiment beside its committed run, the workspace back at HEAD."""
    repo = tmp_path_factory.mktemp("review") / "project"
    shutil.copytree(team.a, repo, symlinks=True)
    run(["git", "remote", "remove", "origin"], repo)
    run(["git", "checkout", "-q", "--", "."], repo)
    return repo


def test_review_compares_an_experiment_with_the_base(reviewed):
    result = cocktail("review", "HEAD", "dual-path", "-o", "out", cwd=reviewed)
    assert result.returncode == 0, result.stderr
    page = (reviewed / "out/review.md").read_text()
    assert "| `model` | `convtasnet` | `dprnn` |" in page, page
    assert "| dual-path (dprnn) |" in page and "| HEAD (convtasnet) |" in page
    row = next(line for line in page.splitlines() if line.startswith("| dual-path (dprnn) | ") and "Δ" not in line)
    assert row.count("+") + row.count("-") >= 5, "every score has its change against the base"
    assert "oracle IBM (ceiling)" in page and "real-time factor" in page
    for figure in ("sdr_per_source.png", "training_curves.png"):
        assert f"]({figure})" in page
        assert (reviewed / "out" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_review_of_the_workspace_by_default(reviewed):
    result = cocktail("review", "HEAD", "-o", "out_ws", cwd=reviewed)
    assert result.returncode == 0, result.stderr
    assert "No params differ." in (reviewed / "out_ws/review.md").read_text()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["HEAD", "no-such-experiment"], "'no-such-experiment'"),
        (["no-such-branch"], "'no-such-branch'"),
        (["HEAD~2"], "base 'HEAD~2' has no metrics/eval.json"),  # the tiny project before its first run
    ],
)
def test_bad_names_get_one_error_line(reviewed, args, named):
    """No `origin` here: an unknown name cannot be fetched either."""
    result = cocktail("review", *args, "-o", "refused", cwd=reviewed)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and named in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not (reviewed / "refused").exists()


def test_an_unreachable_origin_is_named(reviewed, tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(reviewed, clone, symlinks=True)
    run(["git", "remote", "add", "origin", str(tmp_path / "gone.git")], clone)
    result = cocktail("review", "HEAD", "teammates-run", cwd=clone)
    assert result.returncode == 1
    assert result.stderr.startswith("error: git remote 'origin'") and "gone.git" in result.stderr and "teammates-run" in result.stderr


def test_the_pull_request_workflow_runs_only_what_these_tests_run():
    """Each project command in .github/workflows/review.yml is one the suite runs (setup.sh through .ci/run, dvc pull
    and repro in the e2e and remote tests, cocktail review here); cml posts the page and is GitHub's side."""
    workflow = yaml.safe_load((ROOT / ".github/workflows/review.yml").read_text())
    commands = [step["run"] for step in workflow["jobs"]["review"]["steps"] if "run" in step]
    words = re.findall(r"(?:bash scripts/setup\.sh|dvc \w+|cocktail \w+|cml comment create|apt-get \w+)", "\n".join(commands))
    tested = {"bash scripts/setup.sh", "dvc pull", "dvc repro", "dvc remote", "cocktail review", "cml comment create",
              "apt-get update", "apt-get install"}
    assert set(words) <= tested, set(words) - tested
    assert "cocktail review origin/main -o review" in "\n".join(commands)
    assert "cml comment create --publish review/review.md" in "\n".join(commands)


def test_an_experiment_travels_from_one_clone_to_another(team, tmp_path):
    assert team.ran == {"train", "evaluate", "report"}
    b = tmp_path / "b"
    run(["git", "clone", "-q", "-b", "main", str(team.origin), str(b)], tmp_path)
    run(["cocktail", "review", "main", "dual-path", "-o", "review"], b)  # fetches the experiment's refs from origin
    assert "| main (convtasnet) |" in (b / "review/review.md").read_text()
    run(["dvc", "exp", "pull", "origin", "dual-path"], b)  # and its cached outputs from the DVC remote
    run(["dvc", "pull", "-q"], b)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], b).stdout)
    names = [exp["name"] for rev in shown for exp in (rev.get("experiments") or [])]
    assert "dual-path" in names, names
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", "dual-path", "--json"], b).stdout)
    assert {"gnsdr", "gsir", "gsar", "sdri", "si_snri"} <= set(diff["metrics/eval.json"])
    assert diff["metrics/train.json"]["model"]["new"] == "dprnn"

    run(["dvc", "exp", "apply", "dual-path"], b)
    train = json.loads((b / "metrics/train.json").read_text())
    assert train["model"] == "dprnn" and train["parameters"] > 0
    assert train["train_seconds"] > 0 and train["real_time_factor"] > 0
    scores = json.loads((b / "metrics/eval.json").read_text())
    assert scores["model"] == "dprnn" and "mask_accuracy" not in scores, "a time-domain model gives no masks to score"
    assert (b / "model/config.json").is_file(), "the experiment's model comes from the remote"
    assert "Running stage" not in run(["dvc", "repro", "--dry"], b).stdout, "nothing to retrain"
    t = np.arange(3 * 8000) / 8000
    sf.write(b / "talk.wav", (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1100 * t)).astype(np.float32), 8000)
    run(["cocktail", "separate", "talk.wav", "-o", "out", "-q"], b)
    assert sorted(p.name for p in (b / "out").iterdir()) == ["talk_s1.wav", "talk_s2.wav"]
