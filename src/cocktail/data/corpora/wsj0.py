"""WSJ0: `wsj0/si_tr_s|si_dt_05|si_et_05/<speaker>/*.wv1` in NIST SPHERE (shorten-compressed files are refused).

Without lists, si_dt_05 is the validation split, si_et_05 the test split, and mixtures are
drawn at random from si_tr_s speakers. With `wsj0.lists`, a folder of wsj0-2mix/3mix list
files (`mix_2_spk_tr.txt`: path, SNR, path, SNR per line), exactly the listed mixtures are
built, with the listed SNRs, and only the listed files are read.
"""

import re
from pathlib import Path

from cocktail.data.corpora.base import Corpus, audio_file, describe, layout_error, subfolders
from cocktail.errors import CocktailError

NAME = "wsj0"
SECTION = "wsj0"
EXPECTED = "a wsj0/ folder holding si_tr_s/, si_dt_05/ and si_et_05/ speaker folders of .wv1 files"
FOLDER_SPLITS = {"si_tr_s": "", "si_dt_05": "valid", "si_et_05": "test"}
LIST_FILE = re.compile(r"mix_(\d)_spk_(tr|cv|tt)\.txt")
LIST_SPLITS = {"tr": "train", "cv": "valid", "tt": "test"}


def parse_list(path: Path) -> list[dict]:
    """One mixture per line, named as the wsj0-2mix scripts name its files."""
    mixtures = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        try:
            origins, snrs = tokens[0::2], [float(t) for t in tokens[1::2]]
        except ValueError:
            snrs = []
        if len(tokens) % 2 or len(origins) != len(snrs) or len(origins) < 2:
            raise CocktailError(f"{path}, line {number}: expected 'path SNR path SNR ...', found {line!r}.")
        mix_id = "_".join(f"{Path(o).stem}_{s}" for o, s in zip(origins, tokens[1::2]))
        mixtures.append({"mix_id": mix_id, "origins": origins, "snr_db": snrs})
    return mixtures


def read_lists(folder: Path) -> list[dict]:
    lists = sorted(p for p in folder.iterdir() if LIST_FILE.fullmatch(p.name)) if folder.is_dir() else []
    if not lists:
        raise CocktailError(
            f"params key 'wsj0.lists' points at {folder}, which holds no wsj0-2mix list files named like "
            f"mix_2_spk_tr.txt (found: {describe(folder)}). Copy the lists from the wsj0-2mix scripts there, "
            "or set wsj0.lists to '' to draw random pairs."
        )
    mix_list = []
    for path in lists:
        split = LIST_SPLITS[LIST_FILE.fullmatch(path.name).group(2)]
        mix_list += [{"split": split, **m} for m in parse_list(path)]
    return mix_list


def scan(root: Path, options: dict | None) -> Corpus:
    base = root / "wsj0"
    if not base.is_dir():
        raise layout_error(NAME, root, EXPECTED)
    parts = [base / name for name in FOLDER_SPLITS if (base / name).is_dir()]
    if not parts:
        raise layout_error(NAME, root, EXPECTED, found=base)
    files = {}
    for part in parts:
        for speaker in subfolders(part):
            for path in sorted(speaker.glob("*.[wW][vV]1")):
                found = audio_file(root, path, speaker.name, "", FOLDER_SPLITS[part.name])
                files[found.origin] = found
    if not files:
        raise layout_error(NAME, root, EXPECTED, found=parts[0])
    if not options["lists"]:
        return Corpus(list(files.values()))
    mix_list = read_lists(root / str(options["lists"]))
    missing = sorted({o for m in mix_list for o in m["origins"]} - set(files))
    if missing:
        raise CocktailError(
            f"the wsj0-2mix lists in {root / str(options['lists'])} name {len(missing)} file(s) that are not under "
            f"{root}, e.g. {', '.join(missing[:3])}. Their paths are relative to corpus.root, which must hold wsj0/."
        )
    split_of: dict[str, str] = {}
    for mixture in mix_list:
        for origin in mixture["origins"]:
            split_of.setdefault(origin, mixture["split"])
    listed = [
        audio_file(root, files[origin].path, files[origin].speaker, "", split)
        for origin, split in sorted(split_of.items())
    ]
    return Corpus(listed, mix_list)
