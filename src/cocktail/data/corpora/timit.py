"""TIMIT: `TRAIN|TEST/DR1..DR8/<speaker>/*.WAV` in NIST SPHERE; the speaker folder's first letter is the gender.

The corpus's own split is kept: TEST speakers are the test set, validation speakers are drawn
from TRAIN (corpus.valid_speakers). Folder and file names may be upper or lower case.
"""

from pathlib import Path

from cocktail.data.corpora.base import Corpus, audio_file, layout_error, subfolders

NAME = "timit"
SECTION = None
EXPECTED = "TRAIN/ and TEST/ folders holding DR1..DR8/<speaker>/*.WAV (NIST SPHERE)"
SPLITS = {"train": "", "test": "test"}  # "": validation speakers are drawn from TRAIN


def recordings(speaker: Path) -> list[Path]:
    """One file per sentence: converted copies such as SA1.WAV.wav beside SA1.WAV are skipped."""
    chosen: dict[str, Path] = {}
    for path in sorted(speaker.iterdir()):
        if path.is_file() and path.suffix.lower() == ".wav":
            chosen.setdefault(path.name.split(".")[0].upper(), path)
    return list(chosen.values())


def scan(root: Path, options: dict | None) -> Corpus:
    halves = {folder.name.lower(): folder for folder in subfolders(root) if folder.name.lower() in SPLITS}
    if not halves:
        raise layout_error(NAME, root, EXPECTED)
    files = []
    for half in sorted(halves):
        regions = subfolders(halves[half])
        if not regions or any(not r.name.lower().startswith("dr") for r in regions):
            raise layout_error(NAME, root, "dialect-region folders DR1..DR8", found=halves[half])
        for region in regions:
            for speaker in subfolders(region):
                gender = speaker.name[:1].upper()
                if gender not in ("F", "M"):
                    raise layout_error(NAME, root, "speaker folders whose name starts with F or M, e.g. FCJF0", found=region)
                for path in recordings(speaker):
                    files.append(audio_file(root, path, speaker.name.upper(), gender, SPLITS[half]))
    if not files:
        raise layout_error(NAME, root, EXPECTED)
    return Corpus(files)
