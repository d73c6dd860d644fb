"""Outputs appear whole or not at all, so DVC never caches a half-written file."""

import contextlib
import glob
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd


def _umask_mode(mode: int) -> int:
    """mkstemp and mkdtemp create owner-only entries; outputs get the permissions a plain open() would give."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def remove_stale_temporaries(path: Path, suffix: str) -> None:
    """A run killed mid-write (SIGKILL, power loss) leaves its temporary sibling behind; the next write of the same
    output removes it, so a 1.5 GB leftover does not stay forever."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}{re.escape(suffix)}")
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*"):
        if pattern.fullmatch(stale.name):
            shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary sibling path; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path, ".tmp" + path.suffix)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    tmp.chmod(_umask_mode(0o666))
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path):
    """Yield a temporary sibling directory that replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path, ".tmp")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(_umask_mode(0o777))
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def save_json(path: str | Path, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_csv(path: str | Path, table: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
