"""The prepare stage's folder (data/prepared): its file names, and reading it back. Apart from `prepare` (the writer)
so that later stages do not depend on the corpus readers."""

from pathlib import Path

import numpy as np
import pandas as pd

from cocktail.errors import CocktailError

SPLITS = ("train", "valid", "test")
AUDIO, OFFSETS, MANIFEST, MIX_LIST = "audio.npy", "offsets.npy", "manifest.csv", "mix_list.csv"
# A premixed task whose mixtures hold more than their targets (premixed.task: noise, reverberant copies) adds a `role`
# column to the manifest: "source" for a speaker's utterance, else what the recording is. Without it every row is a
# source (every other corpus). The mix list then names, in MIXED, the recordings whose sum is each mixture.
ROLE, SOURCE, MIXED = "role", "source", "mixed_utt_ids"
NOISE, REVERBERANT = "noise", "reverberant"  # the roles of recordings that are mixed in but are no target


def load_prepared(directory: str | Path) -> tuple[list[np.ndarray], pd.DataFrame]:
    """The prepare stage's audio (one array per utterance, read from disk on use) and manifest, in the same order.
    Speaker ids stay strings: LibriSpeech's are numbers."""
    directory = Path(directory)
    if not (directory / MANIFEST).is_file():
        raise CocktailError(f"{directory / MANIFEST} not found: run the prepare stage first (`dvc repro prepare`).")
    audio = np.load(directory / AUDIO, mmap_mode="r")
    offsets = np.load(directory / OFFSETS)
    signals = [np.asarray(audio[offsets[i] : offsets[i + 1]]) for i in range(len(offsets) - 1)]
    text_columns = {c: str for c in ("utt_id", "speaker", "gender", "origin", "text", "split", "split_by", ROLE)}
    return signals, pd.read_csv(directory / MANIFEST, keep_default_na=False, dtype=text_columns)


def source_rows(manifest: pd.DataFrame) -> pd.Series:
    """Which rows are speakers' (or sound classes') recordings, as opposed to a premixed task's noise or reverberant
    copies, which are only ever mixed in: what anything that pools utterances by speaker must keep to."""
    if ROLE not in manifest:
        return pd.Series(True, index=manifest.index)
    return manifest[ROLE] == SOURCE


def load_mix_list(directory: str | Path) -> pd.DataFrame | None:
    """The corpus's own mixtures (wsj0-2mix lists, premixed folders), or None when mixtures are drawn at random."""
    path = Path(directory) / MIX_LIST
    return pd.read_csv(path, keep_default_na=False, dtype=str) if path.is_file() else None
