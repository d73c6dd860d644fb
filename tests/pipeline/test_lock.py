"""The committed dvc.lock must describe the committed code, params and data: on a fresh clone `dvc repro` has
nothing to run but to fetch or rebuild missing outputs. A change committed without rerunning its stages fails here."""

import shutil
import subprocess

import pytest
from conftest import ROOT, run


def test_dvcignore_keeps_byte_code_out_of_stage_deps(tmp_path):
    clone = fresh_clone(tmp_path)
    cache = clone / "src/cocktail/__pycache__"
    cache.mkdir()
    (cache / "stray.cpython-311.pyc").write_bytes(b"not a source")
    for path in ("src/cocktail/__pycache__/stray.cpython-311.pyc", "src/cocktail/__pycache__"):
        assert run(["dvc", "check-ignore", path], clone, check=False).returncode == 0, path
    assert run(["dvc", "check-ignore", "src/cocktail/stage.py"], clone, check=False).returncode == 1


def fresh_clone(tmp_path):
    if shutil.which("git") is None or subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode:
        pytest.skip("the project is not a git checkout")
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(ROOT), str(clone)], tmp_path)
    return clone


def test_committed_lock_is_in_step_with_the_code(tmp_path):
    clone = fresh_clone(tmp_path)
    result = run(["dvc", "repro", "--dry", "--allow-missing"], clone, check=False)
    stale = [line for line in result.stdout.splitlines() if line.startswith("Running stage")]
    assert not stale and result.returncode == 0, (
        "dvc.lock is out of step with the committed code or params; run `dvc repro` and commit dvc.lock, metrics/ and "
        f"dvclive/:\n{result.stdout}{result.stderr}"
    )
