"""TSP speech database: `<speaker>/*.wav` at 48 kHz, speakers FA..FL and MA..MK (no ME); children CA, CB excluded.

The speakers in `tsp.test_speakers` (by default FK, FL, MK, ML, the recommended test set) are the
test split; validation speakers are drawn from the rest.
"""

import re
from pathlib import Path

from cocktail.data.corpora.base import Corpus, audio_file, audio_files_in, describe, layout_error, subfolders
from cocktail.errors import CocktailError

NAME = "tsp"
SECTION = "tsp"
SPEAKER = re.compile(r"[FMC][A-Z]")
CHILDREN = ("C",)


def scan(root: Path, options: dict | None) -> Corpus:
    folders = [f for f in subfolders(root) if SPEAKER.fullmatch(f.name)]
    if not folders:
        raise layout_error(NAME, root, "two-letter speaker folders such as FA/, MA/ holding FA01_01.wav and so on")
    adults = [f for f in folders if not f.name.startswith(CHILDREN)]
    test_speakers = [str(s) for s in options["test_speakers"]]
    missing = sorted(set(test_speakers) - {f.name for f in adults})
    if missing:
        raise CocktailError(
            f"params key 'tsp.test_speakers' names {', '.join(missing)}, not found among the adult speaker folders "
            f"of {root} ({describe(root, 30)}). Use speakers that are there."
        )
    files = [
        audio_file(root, path, folder.name, folder.name[0], "test" if folder.name in test_speakers else "")
        for folder in adults
        for path in audio_files_in(folder, {".wav"})
    ]
    if not files:
        raise layout_error(NAME, root, "speaker folders holding .wav files")
    return Corpus(files)
