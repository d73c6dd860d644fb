"""Few large shards instead of thousands of files: DVC hashes every file of an output.

Ragged audio is stored concatenated with an offsets array, in NPZ (never pickle)."""

import json
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
