"""`cocktail review`: a reviewer's page for experiments against a base, written offline from what git holds."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the embedded corpus")


def cocktail(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([Path(sys.executable).parent / "cocktail", *map(str, args)], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def reviewed(project, tmp_path_factory):
    """A copy of the tiny project with one experiment beside its committed run."""
    repo = tmp_path_factory.mktemp("review") / "project"
    shutil.copytree(project, repo, symlinks=True)
    run(["git", "checkout", "-q", "--", "."], repo)
    run(["dvc", "checkout", "-q"], repo, check=False)
    run(["dvc", "exp", "run", "-n", "frame-by-frame", "-S", "model=ff"], repo)
    run(["git", "checkout", "-q", "--", "."], repo)
    return repo


def test_review_compares_an_experiment_with_the_base(reviewed):
    result = cocktail("review", "HEAD", "frame-by-frame", "-o", "out", cwd=reviewed)
    assert result.returncode == 0, result.stderr
    page = (reviewed / "out/review.md").read_text()
    assert "| `model` | `convtasnet` | `ff` |" in page, page
    assert "| frame-by-frame (ff) |" in page and "| HEAD (convtasnet) |" in page
    ff_row = next(line for line in page.splitlines() if line.startswith("| frame-by-frame (ff) | ") and "Δ" not in line)
    assert ff_row.count("+") + ff_row.count("-") >= 5, "every score has its change against the base"
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
        (["HEAD~1"], "base 'HEAD~1' has no metrics/eval.json"),
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
