"""Outputs are whole or absent, and what a killed run leaves behind is cleaned by the next one."""

import subprocess
import sys

import pytest

from cocktail.atomic import atomic_dir, atomic_path

KILLED_MID_WRITE = """
import os, signal, sys
from cocktail.atomic import atomic_dir, atomic_path
target = sys.argv[1]
with (atomic_dir if sys.argv[2] == "dir" else atomic_path)(target) as tmp:
    (tmp / "part.npz" if sys.argv[2] == "dir" else tmp).write_bytes(b"half of it")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_mid_write(target, kind: str) -> list[str]:
    """What a SIGKILLed writer leaves beside its output: no `finally` runs."""
    result = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(target), kind], capture_output=True)
    assert result.returncode == -9
    return sorted(p.name for p in target.parent.iterdir())


@pytest.mark.parametrize("kind", ["dir", "file"])
def test_the_next_write_removes_what_a_killed_run_left(tmp_path, kind):
    target = tmp_path / ("features" if kind == "dir" else "train.npz")
    neighbours = [".features_old.abcdefgh.tmp", ".train.npz.keep", "notes.txt", ".other.abcdefgh.tmp"]
    for name in neighbours:
        (tmp_path / name).write_text("not ours")
    leftovers = set(killed_mid_write(target, kind)) - set(neighbours)
    assert len(leftovers) == 1 and leftovers.pop().startswith(f".{target.name}.")
    writer = atomic_dir if kind == "dir" else atomic_path
    with writer(target) as tmp:
        (tmp / "whole.npz" if kind == "dir" else tmp).write_bytes(b"all of it")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*neighbours, target.name])


def test_a_failed_block_leaves_the_previous_output_and_no_temporary(tmp_path):
    target = tmp_path / "out"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("first")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "a").write_text("second")
        raise RuntimeError("stage failed")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and (target / "a").read_text() == "first"
