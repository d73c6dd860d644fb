"""ESC-50: `meta/esc50.csv` and `audio/*.wav`, 5 s clips at 44.1 kHz in 50 categories and 5 folds.

The category plays the speaker's part, so `mix.classes` can pair two of them (e.g. wind and
frog); `esc50.test_fold` and `esc50.valid_fold` give the split, the other folds train.
"""

from pathlib import Path

import pandas as pd

from cocktail.data.corpora.base import Corpus, audio_file, layout_error
from cocktail.errors import CocktailError

NAME = "esc50"
SECTION = "esc50"
COLUMNS = {"filename", "fold", "category"}


def scan(root: Path, options: dict | None) -> Corpus:
    meta = root / "meta" / "esc50.csv"
    if not meta.is_file() or not (root / "audio").is_dir():
        raise layout_error(NAME, root, "meta/esc50.csv and an audio/ folder of .wav clips")
    table = pd.read_csv(meta)
    if not COLUMNS <= set(table.columns):
        raise CocktailError(
            f"{meta}: expected the columns {', '.join(sorted(COLUMNS))}, found {', '.join(table.columns)}. "
            "Use the esc50.csv shipped with ESC-50."
        )
    folds = {int(options["test_fold"]): "test", int(options["valid_fold"]): "valid"}
    if len(folds) < 2:
        raise CocktailError("params keys 'esc50.test_fold' and 'esc50.valid_fold' name the same fold: choose two folds.")
    files = [
        audio_file(root, root / "audio" / row.filename, row.category, "", folds.get(int(row.fold), "train"))
        for row in table.itertuples()
    ]
    return Corpus(files)
