"""Few large shards instead of thousands of files: DVC hashes every file of an output.

Ragged audio is stored concatenated with an offsets array, in NPZ (never pickle)."""

import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from cocktail.atomic import atomic_path
from cocktail.errors import CocktailError


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise CocktailError(f"{path} not found: run the stage that writes it first (`dvc repro`).")
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


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


def save_json(path: str | Path, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_csv(path: str | Path, table: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")


def pack(signals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate signals along their last axis; offsets[i]:offsets[i+1] is signal i."""
    lengths = [s.shape[-1] for s in signals]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return np.concatenate(signals, axis=-1).astype(np.float32), offsets


def unpack(packed: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [packed[..., offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
