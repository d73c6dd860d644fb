"""What corpus readers yield: files to decode (real corpora) or utterances already in memory (synthetic)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cocktail.data.prepared_data import SOURCE
from cocktail.errors import CocktailError

AUDIO_SUFFIXES = {".wav", ".flac"}


@dataclass
class Utterance:
    speaker: str
    gender: str  # "F", "M" or "" when unknown
    audio: np.ndarray  # float32, mono, at the requested sample rate
    origin: str  # where it came from: a path relative to corpus.root, or a synthesis recipe
    text: str = ""


@dataclass(frozen=True)
class AudioFile:
    """One recording found by a reader's layout scan, before it is decoded."""

    path: Path
    speaker: str  # or sound class
    gender: str = ""
    split: str = ""
    origin: str = ""  # path relative to corpus.root, recorded in the manifest
    role: str = SOURCE  # prepared_data.ROLE: "source" (a speaker's utterance), or a premixed task's "noise" or "reverberant"


@dataclass
class Corpus:
    """A scanned corpus: its files, and the mixtures its own lists define (wsj0-2mix, premixed), if any."""

    files: list[AudioFile]
    # {"split", "mix_id", "origins": [...] (the targets), "snr_db": [...] or None, and optionally "mixed_origins": [...],
    # the recordings whose sum is the mixture where that is not the targets' sum (premixed.task: noise, reverberation)}
    mix_list: list[dict] | None = None


def audio_file(root: Path, path: Path, speaker: str, gender: str = "", split: str = "", role: str = SOURCE) -> AudioFile:
    return AudioFile(path, speaker, gender, split, path.relative_to(root).as_posix(), role)


def describe(folder: Path, limit: int = 8) -> str:
    """What a folder holds, for layout errors: its first entries, folders marked with a slash."""
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    names = [p.name + ("/" if p.is_dir() else "") for p in entries[:limit]]
    more = f" and {len(entries) - limit} more" if len(entries) > limit else ""
    return (", ".join(names) + more) if names else "nothing"


def layout_error(name: str, root: Path, expected: str, found: Path | None = None) -> CocktailError:
    """The root does not look like the named corpus: say what was expected there and what is there."""
    where = found or root
    return CocktailError(
        f"corpus.root {root} does not look like corpus.name '{name}': expected {expected}, "
        f"but {where} holds {describe(where)}. Point corpus.root at the corpus's top folder or choose the "
        "corpus.name that matches its layout."
    )


def audio_files_in(folder: Path, suffixes: set[str] = AUDIO_SUFFIXES) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
