"""Mixtures made elsewhere, used as they are: wsj0-2mix, WHAM! and WHAMR! (`tr|cv|tt/`, which their scripts write
under `wav8k|wav16k/min|max/`) and LibriMix (`train-360|train-100|dev|test/`).

`premixed.task` chooses, in every split folder, the folder that lists the mixtures, the folders whose sum each
mixture is, and the target folders:

| task                | mixtures (wsj0-2mix, WHAM!, LibriMix; WHAMR!)  | mixture = sum of       | targets               |
|---------------------|------------------------------------------------|------------------------|-----------------------|
| sep_clean           | mix/ or mix_clean/; mix_clean_anechoic/         | the targets            | s1/, s2/ (s3/)        |
| sep_noisy           | mix_both/; mix_both_anechoic/                   | the targets + noise/   | s1/, s2/ (s3/)        |
| enh_single          | mix_single/; mix_single_anechoic/               | s1 + noise/            | s1/                   |
| sep_reverb          | WHAMR!: mix_clean_reverb/                       | s*_reverb/             | s*_anechoic/          |
| sep_noisy_reverb    | WHAMR!: mix_both_reverb/                        | s*_reverb/ + noise/    | s*_anechoic/          |
| enh_single_reverb   | WHAMR!: mix_single_reverb/                      | s1_reverb/ + noise/    | s1_anechoic/          |

(WHAMR!'s targets are always the anechoic folders: s1_anechoic/, s2_anechoic/.) The mixture folder's files name the
mixtures and are not decoded: the mix stage rebuilds each mixture as the sum of its component recordings, which is
how all four corpora make theirs (up to 16-bit rounding), so the noise and the reverberation are in the mixture and in
no target. Components that are no target (noise/, s*_reverb/) travel in the prepared manifest with the role "noise" or
"reverberant" (prepared_data.ROLE) and are named in the mix list's mixed_utt_ids. Speakers are read from the file
names where the naming allows.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from cocktail.data.corpora.base import Corpus, audio_file, audio_files_in, describe, layout_error, subfolders
from cocktail.data.prepared_data import NOISE, REVERBERANT, SOURCE
from cocktail.errors import CocktailError
from cocktail.params import checked_choice

NAME = "premixed"
SECTION = "premixed"
SPLIT_FOLDERS = {
    "tr": "train", "cv": "valid", "tt": "test",
    "train": "train", "train-100": "train", "train-360": "train", "dev": "valid", "test": "test",
}
EXPECTED = (
    "split folders (tr/, cv/, tt/ as wsj0-2mix, WHAM! and WHAMR! write them under wav8k/min/ and the like, or "
    "train-360/, dev/, test/ as LibriMix does), each holding a mixture folder (mix/, mix_clean/, mix_both/, mix_single/, "
    "or WHAMR!'s mix_*_anechoic/, mix_*_reverb/) beside s1/, s2/ (s3/)"
)
NOISE_FOLDER = "noise"
MAX_SPEAKERS = 3
LIBRISPEECH_ID = re.compile(r"(\d+)-\d+-\d+")


@dataclass(frozen=True)
class Layout:
    """The folders of one task in one corpus's layout; `{k}` stands for the speaker's number."""

    mixtures: str  # the folder whose files name the mixtures
    targets: str = "s{k}"
    heard: str = ""  # the speakers as heard in the mixture, where they are not the targets (WHAMR!'s s{k}_reverb)
    noise: bool = False  # noise/ is part of the mixture
    single: bool = False  # one speaker (s1): speech enhancement

    def speakers(self, folder: Path) -> list[int]:
        """The speakers' numbers: s1 for enhancement; else s1, s2 and whichever further ones the split holds."""
        if self.single:
            return [1]
        return [1, 2] + [k for k in range(3, MAX_SPEAKERS + 1) if (folder / self.targets.format(k=k)).is_dir()]

    def folders(self, folder: Path) -> list[str]:
        """Every folder this task reads in a split folder, the mixtures' first."""
        numbers = self.speakers(folder)
        return [
            self.mixtures, *(self.targets.format(k=k) for k in numbers),
            *((self.heard.format(k=k) for k in numbers) if self.heard else ()), *([NOISE_FOLDER] if self.noise else []),
        ]

    def missing(self, folder: Path) -> list[str]:
        return [name for name in self.folders(folder) if not (folder / name).is_dir()]


WHAMR = {"targets": "s{k}_anechoic"}
# Per task, its layouts in the order they are looked for: the first whose mixture folder a split holds is used.
TASKS = {
    "sep_clean": (Layout("mix"), Layout("mix_clean"), Layout("mix_clean_anechoic", **WHAMR)),
    "sep_noisy": (Layout("mix_both", noise=True), Layout("mix_both_anechoic", **WHAMR, noise=True)),
    "enh_single": (
        Layout("mix_single", noise=True, single=True), Layout("mix_single_anechoic", **WHAMR, noise=True, single=True),
    ),
    "sep_reverb": (Layout("mix_clean_reverb", **WHAMR, heard="s{k}_reverb"),),
    "sep_noisy_reverb": (Layout("mix_both_reverb", **WHAMR, heard="s{k}_reverb", noise=True),),
    "enh_single_reverb": (Layout("mix_single_reverb", **WHAMR, heard="s{k}_reverb", noise=True, single=True),),
}
DEFAULT_TASK = "sep_clean"


def supported_tasks(folder: Path) -> list[str]:
    """The tasks whose every folder a split folder holds."""
    return [task for task, layouts in TASKS.items() if any(not layout.missing(folder) for layout in layouts)]


def tree_tasks(splits: list[Path]) -> str:
    """The tasks every split folder supports, for error messages."""
    common = [t for t in TASKS if all(t in supported_tasks(folder) for folder in splits)] if splits else []
    return ", ".join(common) if common else "none"


def task_layout(root: Path, folder: Path, task: str, splits: list[Path]) -> Layout:
    """The layout `task` reads in one split folder, or an error naming premixed.task, the missing folder and the tasks
    the tree does support."""
    candidates = TASKS[task]
    layout = next((c for c in candidates if (folder / c.mixtures).is_dir()), None)
    if (layout is None or layout.missing(folder)) and not any(supported_tasks(f) for f in splits):
        raise layout_error(NAME, root, "a mixture folder (mix/, mix_clean/, mix_both/, ...) beside s1/ and s2/", found=folder)
    missing = [c.mixtures for c in candidates] if layout is None else layout.missing(folder)
    if missing:
        needed = " or ".join(f"{name}/" for name in missing) if layout is None else f"{missing[0]}/"
        raise CocktailError(
            f"params key 'premixed.task' is '{task}', which reads {needed} in every split folder, but {folder} holds "
            f"{describe(folder, limit=16)}. This tree supports premixed.task: {tree_tasks(splits)}. Choose one of "
            "those, or complete the corpus (its scripts write every folder)."
        )
    return layout


def speakers_from_name(stem: str, n_sources: int) -> list[str]:
    """LibriMix names `spk-chapter-utt_spk-...`; wsj0-2mix, WHAM! and WHAMR! `utt_snr_utt_snr`, a WSJ0 speaker is an
    utterance's first 3 characters."""
    tokens = stem.split("_")
    if len(tokens) == n_sources and all(LIBRISPEECH_ID.fullmatch(t) for t in tokens):
        return [LIBRISPEECH_ID.fullmatch(t).group(1) for t in tokens]
    if len(tokens) == 2 * n_sources:
        return [t[:3] for t in tokens[0::2]]
    return [f"unknown_s{k + 1}" for k in range(n_sources)]


def scan(root: Path, options: dict | None) -> Corpus:
    task = options["task"] if options is not None else DEFAULT_TASK
    splits = [folder for folder in subfolders(root) if folder.name in SPLIT_FOLDERS]
    checked_choice("premixed.task", task, TASKS, f" (this tree has {tree_tasks(splits)})" if splits else "")
    if not splits:
        raise layout_error(NAME, root, EXPECTED)
    files, mix_list = [], []
    for folder in splits:
        layout = task_layout(root, folder, task, splits)
        split = SPLIT_FOLDERS[folder.name]
        numbers = layout.speakers(folder)
        # Names carry every speaker of the recording, also where one is the target (WHAM!'s mix_single).
        named = sum((folder / layout.targets.format(k=k)).is_dir() for k in range(1, MAX_SPEAKERS + 1))
        for mixture in audio_files_in(folder / layout.mixtures):
            speakers = speakers_from_name(mixture.stem, max(named, len(numbers)))
            parts = [(folder / layout.targets.format(k=k) / mixture.name, speakers[k - 1], SOURCE) for k in numbers]
            if layout.heard:
                parts += [(folder / layout.heard.format(k=k) / mixture.name, speakers[k - 1], REVERBERANT) for k in numbers]
            if layout.noise:
                parts.append((folder / NOISE_FOLDER / mixture.name, NOISE, NOISE))
            missing = [path for path, _, _ in parts if not path.is_file()]
            if missing:
                raise CocktailError(
                    f"{mixture}: its component {missing[0]} is missing. Every mixture needs one file of the same name in "
                    f"each of {', '.join(f'{name}/' for name in layout.folders(folder)[1:])}; restore it or remove the mixture."
                )
            found = [audio_file(root, path, speaker, "", split, role) for path, speaker, role in parts]
            files += found
            entry = {"split": split, "mix_id": mixture.stem, "origins": [f.origin for f in found[: len(numbers)]], "snr_db": None}
            if layout.heard or layout.noise:
                entry["mixed_origins"] = [f.origin for f in found[len(numbers) if layout.heard else 0 :]]
            mix_list.append(entry)
    if not files:
        raise layout_error(NAME, root, EXPECTED)
    return Corpus(files, mix_list)
