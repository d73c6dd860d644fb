"""`<speaker or class>/*.wav|flac`: the layout for anything without a reader of its own."""

from pathlib import Path

from cocktail.data.corpora.base import Corpus, audio_file, audio_files_in, layout_error, subfolders

NAME = "folder"
SECTION = None


def scan(root: Path, options: dict | None) -> Corpus:
    files = [audio_file(root, path, folder.name) for folder in subfolders(root) for path in audio_files_in(folder)]
    if not files:
        raise layout_error(NAME, root, "one sub-folder of .wav or .flac recordings per speaker or class")
    return Corpus(files)
