"""Corpus readers by `corpus.name`: each scans its corpus's layout into files to decode, or synthesises one."""

from pathlib import Path

from cocktail.corpora import esc50, folder, librispeech, premixed, timit, tsp, wsj0
from cocktail.corpora.base import Corpus
from cocktail.errors import CocktailError

READERS = {reader.NAME: reader for reader in (timit, tsp, librispeech, wsj0, esc50, premixed, folder)}
CORPUS_NAMES = ("synthetic", *READERS)


def scan_corpus(params) -> Corpus:
    """Check the layout of corpus.root and list its recordings; nothing is decoded yet."""
    name = params["corpus.name"]
    if name not in READERS:
        raise CocktailError(
            f"params key 'corpus.name' is '{name}', which has no reader. Valid names: {', '.join(CORPUS_NAMES)}."
        )
    root = Path(params["corpus.root"])
    if not root.is_dir():
        raise CocktailError(
            f"corpus.root '{root}' does not exist or is not a folder (corpus.name: {name}). "
            "Set corpus.root in params.yaml to where the corpus lives, e.g. a symlink under data/ "
            f"(`ln -s /path/to/corpus data/{name}`)."
        )
    reader = READERS[name]
    return reader.scan(root, params.section(reader.SECTION) if reader.SECTION else None)
