"""`cocktail review`: a reviewer's page for experiments against a base, written offline from what git holds."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run

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
    result = cocktail("review", *args, "-o", "refused", cwd=reviewed)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and named in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not (reviewed / "refused").exists()
