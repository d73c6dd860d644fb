"""Few large shards instead of thousands of files: DVC hashes every file of an output.

Ragged audio is stored concatenated with an offsets array, in NPZ (never pickle)."""

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cocktail.atomic import atomic_path
from cocktail.errors import CocktailError


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_npz(path: str | Path, arrays: bool = True) -> dict[str, np.ndarray]:
    """Every array of one NPZ file (with `arrays=False` only its names, which reads the zip's directory and so finds a
    truncated file cheaply); a missing, truncated or corrupt file names itself and how to rebuild it."""
    path = Path(path)
    if not path.is_file():
        raise CocktailError(f"{path} not found: run the stage that writes it first (`dvc repro`).")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] if arrays else None for key in npz.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
        raise CocktailError(
            f"{path} is truncated or corrupt ({err}): restore it with `dvc checkout` or rebuild it with `dvc repro -f` "
            "on the stage that writes it."
        ) from err


class ShardWriter:
    """Items appended one at a time go to numbered NPZ shards of about `max_bytes` each, so a split of any size is
    written in bounded memory. `pack` turns a shard's items into the arrays stored (stacked, or concatenated with
    offsets when ragged)."""

    def __init__(self, directory: str | Path, stem: str, max_bytes: int, pack: Callable[[list[dict]], dict]):
        self.directory, self.stem, self.max_bytes, self.pack = Path(directory), stem, max_bytes, pack
        self.directory.mkdir(parents=True, exist_ok=True)
        self.items: list[dict] = []
        self.pending_bytes = 0
        self.counts: list[int] = []

    def append(self, item: dict[str, np.ndarray]) -> None:
        self.items.append(item)
        self.pending_bytes += sum(np.asarray(v).nbytes for v in item.values())
        if self.pending_bytes >= self.max_bytes:
            self.flush()

    def flush(self) -> None:
        if self.items:
            save_npz(self.directory / shard_name(self.stem, len(self.counts)), **self.pack(self.items))
            self.counts.append(len(self.items))
            self.items, self.pending_bytes = [], 0

    def close(self) -> list[int]:
        """Write what is left; returns the number of items in each shard, in order."""
        self.flush()
        return self.counts


def shard_name(stem: str, index: int) -> str:
    return f"{stem}-{index:05d}.npz"


def shard_paths(directory: str | Path, stem: str, counts: list[int]) -> list[Path]:
    """The shards an index lists, each checked to exist and to open, so a lost or truncated shard is named before any
    work starts rather than in the middle of training."""
    paths = [Path(directory) / shard_name(stem, i) for i in range(len(counts))]
    for path in paths:
        if not path.is_file():
            raise CocktailError(
                f"{path} is missing although {Path(directory)} lists it: restore it with `dvc checkout` or rebuild the "
                "folder with `dvc repro -f` on the stage that writes it."
            )
        load_npz(path, arrays=False)
    return paths


def megabytes(section, key: str) -> int:
    """A shard size from params, in bytes."""
    return int(float(section[key]) * 2**20)


class SignalWriter:
    """Appends float32 signals to one .npy file as they arrive, so a corpus larger than memory can be written.

    The header is written first with room for any length and rewritten with the real one at the end;
    `np.load(path, mmap_mode="r")` then reads only the signals that are used."""

    HEADER_BYTES = 128  # a multiple of 64, as the .npy format asks, with room for a 20-digit length

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.file = open(self.path, "wb")
        self.file.write(self._header(0))
        self.lengths: list[int] = []

    def _header(self, length: int) -> bytes:
        text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({length},), }}"
        text = text.ljust(self.HEADER_BYTES - 11) + "\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")

    def append(self, signal: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(signal, dtype="<f4").tobytes())
        self.lengths.append(int(signal.shape[-1]))

    def close(self) -> np.ndarray:
        """Finish the file; returns the offsets: signal i is [offsets[i], offsets[i + 1])."""
        self.file.seek(0)
        self.file.write(self._header(sum(self.lengths)))
        self.file.close()
        return np.concatenate([[0], np.cumsum(self.lengths, dtype=np.int64)]).astype(np.int64)


def pack(signals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate signals along their last axis; offsets[i]:offsets[i+1] is signal i."""
    lengths = [s.shape[-1] for s in signals]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return np.concatenate(signals, axis=-1).astype(np.float32), offsets


def unpack(packed: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [packed[..., offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
