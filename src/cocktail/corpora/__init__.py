"""Corpus readers by `corpus.name`: each turns a corpus into mono utterances at the pipeline's rate."""

from pathlib import Path

from cocktail.audio import read_audio
from cocktail.corpora.base import Utterance
from cocktail.errors import CocktailError

AUDIO_SUFFIXES = {".wav", ".flac"}


def read_folder(root: Path, sample_rate: int) -> list[Utterance]:
    """`<speaker or class>/*.wav|flac`: the layout for anything without a reader of its own."""
    speakers = sorted(p for p in root.iterdir() if p.is_dir())
    utterances = []
    for speaker_dir in speakers:
        for path in sorted(p for p in speaker_dir.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
            utterances.append(Utterance(speaker_dir.name, "", read_audio(path, sample_rate), str(path)))
    if not utterances:
        found = ", ".join(sorted(p.name for p in root.iterdir())[:10]) or "nothing"
        raise CocktailError(
            f"corpus.root {root} holds no <speaker>/*.wav or *.flac files (found: {found}). "
            "Point corpus.root at a folder with one sub-folder of recordings per speaker."
        )
    return utterances


def read_corpus(params, sample_rate: int, seed: int) -> list[Utterance]:
    """Dispatch on corpus.name; the synthetic corpus needs no root, the others do."""
    name = params["corpus.name"]
    if name == "synthetic":
        from cocktail.corpora import synthetic

        section = params.section("synthetic")
        return synthetic.synthesize(
            int(section["n_voices"]), int(section["sentences_per_voice"]), sample_rate, seed
        )
    readers = {"folder": read_folder}
    if name not in readers:
        raise CocktailError(
            f"params key 'corpus.name' is '{name}', which has no reader. Valid names: synthetic, {', '.join(readers)}."
        )
    root = Path(params["corpus.root"])
    if not root.is_dir():
        raise CocktailError(
            f"corpus.root '{root}' does not exist or is not a folder (corpus.name: {name}). "
            "Set corpus.root in params.yaml to where the corpus lives, e.g. a symlink under data/."
        )
    return readers[name](root, sample_rate)
