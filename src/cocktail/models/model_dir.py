"""A trained model's directory: config.json (architecture, its section, sources, spectral settings)
beside the learned values, so a model separates without params.yaml."""

import json
from collections.abc import Callable
from pathlib import Path

from cocktail.atomic import atomic_dir
from cocktail.errors import CocktailError

CONFIG_FILE = "config.json"


def model_config(architecture: str, section: dict, n_sources: int, spectral) -> dict:
    return {"architecture": architecture, "section": dict(section), "n_sources": n_sources, "spectral": spectral.to_dict()}


def write_model_dir(directory: str | Path, config: dict, write_values: Callable[[Path], None]) -> None:
    with atomic_dir(directory) as tmp:
        write_values(tmp)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1))


def read_config(directory: str | Path, values_file: str | None = None) -> dict:
    directory = Path(directory)
    needed = [CONFIG_FILE] + ([values_file] if values_file else [])
    if not all((directory / name).is_file() for name in needed):
        raise CocktailError(
            f"{directory} is not a trained model directory (it needs {' and '.join(needed)}): "
            "run `dvc repro train` or point to the folder the train stage wrote."
        )
    return json.loads((directory / CONFIG_FILE).read_text())
