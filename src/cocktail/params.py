"""Reading params.yaml so that a missing or mistyped key names itself and the file."""

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
        return node

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

    def __missing__(self, key):
        raise CocktailError(
            f"params key '{self.name}.{key}' is missing from {self.source}: add it "
            f"(see the default params.yaml in the repository for its meaning and default)."
        )


def number_in_range(section: SectionView, key: str, kind: type, low: float, high: float | None = None, why: str = ""):
    """A numeric key inside its range, or one error naming it: out of range it would end as a traceback deep in a stage."""
    value = section[key]
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    whole = numeric and (kind is float or float(value).is_integer())
    if not (whole and value >= low and (high is None or value <= high)):
        what = "a whole number" if kind is int else "a number"
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise CocktailError(f"params key '{section.name}.{key}' is {value!r}: it must be {what} {bound}{why}.")
    return kind(value)
