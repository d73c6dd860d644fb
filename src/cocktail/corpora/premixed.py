"""Mixtures made elsewhere, used as they are: wsj0-2mix (`tr|cv|tt/mix/`) or LibriMix (`train-360|dev|test/mix_clean/`).

Each split folder holds `mix/` (or `mix_clean/`) and `s1/`, `s2/` (`s3/`) with the same file
names. The sources are read; each mixture is their sum, which is how both corpora define
their clean mixtures. Speakers are read from the file names where the naming allows.
"""

import re
from pathlib import Path

from cocktail.corpora.base import Corpus, audio_file, audio_files_in, layout_error, subfolders
from cocktail.errors import CocktailError

NAME = "premixed"
SECTION = None
SPLIT_FOLDERS = {
    "tr": "train", "cv": "valid", "tt": "test",
    "train": "train", "train-100": "train", "train-360": "train", "dev": "valid", "test": "test",
}
MIX_FOLDERS = ("mix", "mix_clean")
EXPECTED = (
    "split folders (tr/, cv/, tt/ as wsj0-2mix writes them, or train-360/, dev/, test/ as LibriMix does), "
    "each holding mix/ or mix_clean/ and s1/, s2/ (s3/)"
)
LIBRISPEECH_ID = re.compile(r"(\d+)-\d+-\d+")


def speakers_from_name(stem: str, n_sources: int) -> list[str]:
    """LibriMix names `spk-chapter-utt_spk-...`; wsj0-2mix `utt_snr_utt_snr`, a WSJ0 speaker is an utterance's first 3 characters."""
    tokens = stem.split("_")
    if len(tokens) == n_sources and all(LIBRISPEECH_ID.fullmatch(t) for t in tokens):
        return [LIBRISPEECH_ID.fullmatch(t).group(1) for t in tokens]
    if len(tokens) == 2 * n_sources:
        return [t[:3] for t in tokens[0::2]]
    return [f"unknown_s{k + 1}" for k in range(n_sources)]


def scan(root: Path, options: dict | None) -> Corpus:
    splits = [folder for folder in subfolders(root) if folder.name in SPLIT_FOLDERS]
    if not splits:
        raise layout_error(NAME, root, EXPECTED)
    files, mix_list = [], []
    for folder in splits:
        mix_dir = next((folder / m for m in MIX_FOLDERS if (folder / m).is_dir()), None)
        source_dirs = [folder / f"s{k}" for k in range(1, 4) if (folder / f"s{k}").is_dir()]
        if mix_dir is None or len(source_dirs) < 2:
            raise layout_error(NAME, root, "mix/ or mix_clean/ beside s1/ and s2/", found=folder)
        split = SPLIT_FOLDERS[folder.name]
        for mixture in audio_files_in(mix_dir):
            paths = [d / mixture.name for d in source_dirs]
            missing = [p for p in paths if not p.is_file()]
            if missing:
                raise CocktailError(
                    f"{mixture}: its source {missing[0]} is missing. Every mixture needs one file of the same name "
                    "in each of s1/, s2/ (s3/); restore it or remove the mixture."
                )
            speakers = speakers_from_name(mixture.stem, len(paths))
            found = [audio_file(root, p, s, "", split) for p, s in zip(paths, speakers)]
            files += found
            mix_list.append({"split": split, "mix_id": mixture.stem, "origins": [f.origin for f in found], "snr_db": None})
    if not files:
        raise layout_error(NAME, root, EXPECTED)
    return Corpus(files, mix_list)
