"""Corpus readers by `corpus.name`: each scans its corpus's layout into files to decode, or synthesises one."""

from pathlib import Path

from cocktail.data.corpora import esc50, folder, librispeech, premixed, timit, tsp, wsj0
from cocktail.data.corpora.base import Corpus
from cocktail.errors import CocktailError
from cocktail.params import checked_choice

READERS = {reader.NAME: reader for reader in (timit, tsp, librispeech, wsj0, esc50, premixed, folder)}
CORPUS_NAMES = ("synthetic", *READERS)


def reader_section(name: str) -> str | None:
    """The params section the corpus named `name` reads besides `corpus` (None: it reads none)."""
    if name == "synthetic":
        return "synthetic"
    return READERS[checked_choice("corpus.name", name, CORPUS_NAMES, ", the corpora with a reader")].SECTION


def reader_settings(params) -> dict | None:
    """The reader's own section for params.yaml's corpus.name, as scan_corpus takes it (None: it reads none)."""
    section = reader_section(params["corpus.name"])
    return params.section(section) if section else None


def scan_corpus(name: str, root: str | Path, settings: dict | None) -> Corpus:
    """Check the layout of the corpus at `root` and list its recordings; nothing is decoded yet. `settings` is the
    reader's own params section (reader_section)."""
    if name not in READERS:
        raise CocktailError(
            f"params key 'corpus.name' is '{name}', which no reader scans from corpus.root. "
            f"Readers of a folder: {', '.join(READERS)}."
        )
    root = Path(root)
    if not root.is_dir():
        raise CocktailError(
            f"corpus.root '{root}' does not exist or is not a folder (corpus.name: {name}). "
            "Set corpus.root in params.yaml to where the corpus lives, e.g. a symlink under data/ "
            f"(`ln -s /path/to/corpus data/{name}`)."
        )
    return READERS[name].scan(root, settings)
