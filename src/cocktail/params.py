"""Reading params.yaml so that a missing or mistyped key names itself and the file."""

from dataclasses import dataclass
from pathlib import Path

import yaml

from cocktail.errors import CocktailError

PARAMS_FILE = "params.yaml"


class Params:
    """Dotted-key access to params.yaml whose errors say which key is missing and where."""

    def __init__(self, data: dict, source: str = PARAMS_FILE):
        self._data = data
        self.source = source

    @classmethod
    def load(cls, path: str | Path = PARAMS_FILE) -> "Params":
        path = Path(path)
        if not path.is_file():
            raise CocktailError(f"{path} not found: run the stage from the project root, where params.yaml lives.")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise CocktailError(f"{path} is not valid YAML: {err}") from err
        if not isinstance(data, dict):
            raise CocktailError(f"{path} must hold a mapping of sections, found {type(data).__name__}.")
        return cls(data, str(path))

    def __getitem__(self, key: str):
        node = self._data
        walked = []
        for part in key.split("."):
            walked.append(part)
            if not isinstance(node, dict) or part not in node:
                raise CocktailError(
                    f"params key '{'.'.join(walked)}' is missing from {self.source}: add it "
                    f"(see the default params.yaml in the repository for its meaning and default)."
                )
            node = node[part]
        return RANGES[key].check(key, node) if key in RANGES else node

    def section(self, key: str) -> dict:
        value = self[key]
        if not isinstance(value, dict):
            raise CocktailError(f"params key '{key}' in {self.source} must be a section (a mapping), found {value!r}.")
        return SectionView(value, key, self.source)


class SectionView(dict):
    """A params section that remembers its name, so a missing key is reported as 'dpcl.hidden'."""

    def __init__(self, data: dict, name: str, source: str):
        super().__init__(data)
        self.name = name
        self.source = source

    def __getitem__(self, key):
        value = super().__getitem__(key)
        dotted = f"{self.name}.{key}"
        return RANGES[dotted].check(dotted, value) if dotted in RANGES else value

    def replaced(self, values: dict) -> "SectionView":
        """The same section with some values replaced, still checked and named as itself."""
        return SectionView({**self, **values}, self.name, self.source)

    def __missing__(self, key):
        raise CocktailError(
            f"params key '{self.name}.{key}' is missing from {self.source}: add it "
            f"(see the default params.yaml in the repository for its meaning and default)."
        )


def as_written(value) -> str:
    """A value as params.yaml spells it: null, true and false bare, words quoted."""
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else repr(value)


def checked_choice(key: str, value, choices, why: str = ""):
    """A params key that takes one of a few words (or true / false): anything else stops here, in one error naming the
    key and what it may be, not as a KeyError or a silently taken default further in. True is not 1 here."""
    choices = tuple(choices)
    if any(value is choice or (type(value) is type(choice) and value == choice) for choice in choices):
        return value
    written = [choice if isinstance(choice, str) else as_written(choice) for choice in choices]
    options = " or ".join(written) if len(written) <= 2 else f"one of {', '.join(written)}"
    raise CocktailError(f"params key '{key}' is {as_written(value)}: use {options}{why}.")


@dataclass(frozen=True)
class Range:
    """The values a numeric params key may take. Out of range a number would end as a traceback deep in a stage, or
    worse, be taken (a negative learning rate trains, uphill): checked where the key is read, one error naming it."""

    kind: type  # int (a whole number) or float
    low: float
    high: float | None = None
    low_open: bool = False  # low itself is excluded (a rate, a norm)
    high_open: bool = False
    why: str = ""
    optional: bool = False  # null is allowed and means "not set"
    even: bool = False  # strides and hops of half a window or chunk

    def check(self, key: str, value):
        if value is None and self.optional:
            return None
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        whole = numeric and (self.kind is float or float(value).is_integer())
        above = whole and (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (whole and (value < self.high if self.high_open else value <= self.high))
        if not (whole and above and below and not (self.even and value % 2)):
            what = "a whole number" if self.kind is int else "a number"
            if self.even:
                what = "an even whole number"
            lower = f"above {self.low}" if self.low_open else f"of at least {self.low}"
            if self.high is None:
                bound = lower
            elif not self.low_open and not self.high_open:
                bound = f"from {self.low} to {self.high}"
            else:
                bound = f"{lower} and {'below' if self.high_open else 'at most'} {self.high}"
            null = " (or null)" if self.optional else ""
            raise CocktailError(f"params key '{key}' is {value!r}: it must be {what} {bound}{null}{self.why}.")
        return self.kind(value)


WHOLE = Range(int, 1)
EVEN = Range(int, 2, even=True, why=": strides and hops of half a window or chunk need an even one")
SHARD_SIZE = Range(float, 0.001, why=" megabytes per shard")

# Every numeric key outside the architecture sections (those declare their own, models/base.py). A new numeric key
# goes here too: tests/test_params.py fails for one that accepts zero, a negative number or a word unchecked.
RANGES = {
    "seed": Range(int, 0),
    "corpus.sample_rate": Range(int, 1000, why=" Hz"),
    "corpus.valid_speakers": Range(int, 0),
    "corpus.test_speakers": Range(int, 0),
    "corpus.max_bad_fraction": Range(float, 0, 1, why=": the share of bad files tolerated"),
    "synthetic.n_voices": Range(int, 3, why=": one voice at least for each of train, valid and test"),
    "synthetic.sentences_per_voice": WHOLE,
    "esc50.valid_fold": Range(int, 1, 5, why=": ESC-50 has folds 1 to 5"),
    "esc50.test_fold": Range(int, 1, 5, why=": ESC-50 has folds 1 to 5"),
    "mix.n_sources": Range(int, 2, why=": a mixture holds two sources or more"),
    "mix.ratio_db": Range(float, 0, why=": the source-to-source ratio is drawn from [-ratio_db, ratio_db] dB"),
    "mix.train_mixtures": Range(int, 1, why=": the train split needs mixtures"),
    "mix.valid_mixtures": Range(int, 1, why=": the valid split needs mixtures"),
    "mix.test_mixtures": Range(int, 1, why=": the test split needs mixtures"),
    "mix.rooms": Range(int, 1, why=": rooms simulated per split, each mixture heard in one of them"),
    "mix.shard_megabytes": SHARD_SIZE,
    "noise.valid_share": Range(float, 0, 1, low_open=True, high_open=True, why=": the share of noise files for validation"),
    "noise.test_share": Range(float, 0, 1, low_open=True, high_open=True, why=": the share of noise files for test"),
    "features.n_fft": Range(int, 16, why=" samples per frame"),
    "features.hop_length": Range(int, 1, why=" samples"),
    "features.vad_db": Range(float, 0, low_open=True, why=" dB below the mixture's loudest bin"),
    "features.chunk_frames": WHOLE,
    "features.segment_seconds": Range(float, 0.1),
    "features.shard_megabytes": SHARD_SIZE,
    "train.clip_norm": Range(float, 0, low_open=True, why=": the largest gradient norm"),
    "train.lr_patience": WHOLE,
    "train.stop_patience": WHOLE,
    "train.valid_mixtures": WHOLE,
    "train.shuffle_shards": WHOLE,
    "train.max_minutes": Range(float, 0, why=" of training (0: no limit)"),
    "evaluate.examples": Range(int, 0),
    "evaluate.n_sources": Range(int, 2, optional=True, why=": null separates as many sources as the model was trained on"),
    "evaluate.meanshift_quantile": Range(float, 0, 1, low_open=True),
    "evaluate.meanshift_min_share": Range(float, 0, 1, high_open=True),
    "report.examples": WHOLE,
    "report.scatter_points": Range(int, 10),
}
