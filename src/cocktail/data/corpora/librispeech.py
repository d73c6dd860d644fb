"""LibriSpeech: `<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`, genders in SPEAKERS.TXT.

corpus.root is the LibriSpeech folder itself (the one holding SPEAKERS.TXT). `dev-*` subsets
are the validation split and `test-*` the test split; speakers of `train-*` subsets are
divided by corpus.valid_speakers and corpus.test_speakers when no such subset is read.
"""

from pathlib import Path

from cocktail.data.corpora.base import Corpus, audio_file, describe, layout_error, subfolders
from cocktail.errors import CocktailError

NAME = "librispeech"
SECTION = "librispeech"
EXPECTED = "SPEAKERS.TXT beside subset folders such as train-clean-100/<speaker>/<chapter>/*.flac"


def read_genders(path: Path) -> dict[str, str]:
    """SPEAKERS.TXT: `ID | SEX | SUBSET | MINUTES | NAME`, comments start with ';'."""
    genders = {}
    for line in path.read_text(errors="replace").splitlines():
        fields = [f.strip() for f in line.split("|")]
        if line.startswith(";") or len(fields) < 2:
            continue
        genders[fields[0]] = fields[1].upper()
    return genders


def subset_split(name: str) -> str:
    return "valid" if name.startswith("dev") else "test" if name.startswith("test") else ""


def scan(root: Path, options: dict | None) -> Corpus:
    speakers_txt = root / "SPEAKERS.TXT"
    if not speakers_txt.is_file():
        raise layout_error(NAME, root, EXPECTED)
    genders = read_genders(speakers_txt)
    subsets = [str(s) for s in (options["subsets"] or [f.name for f in subfolders(root)])]
    files = []
    for subset in subsets:
        folder = root / subset
        if not folder.is_dir():
            raise CocktailError(
                f"params key 'librispeech.subsets' names '{subset}', which is not a folder of {root} "
                f"({describe(root)}). List subsets that are there, or [] for all of them."
            )
        for speaker in subfolders(folder):
            for chapter in subfolders(speaker):
                for path in sorted(chapter.glob("*.flac")):
                    files.append(audio_file(root, path, speaker.name, genders.get(speaker.name, ""), subset_split(subset)))
    if not files:
        raise layout_error(NAME, root, EXPECTED)
    return Corpus(files)
