"""A trained model's folder: written whole or not at all, read back without params.yaml, refused when incomplete."""

import numpy as np
import pytest

from cocktail.dsp.spectral import Normaliser, SpectralSettings
from cocktail.dsp.stft import StftConfig
from cocktail.errors import CocktailError
from cocktail.models.model_dir import CONFIG_FILE, model_config, read_config, write_model_dir

SPECTRAL = SpectralSettings(StftConfig(256, 64), 40.0, 8000, Normaliser(np.zeros(129, np.float32), np.ones(129, np.float32)))


def test_config_round_trips_with_the_values(tmp_path):
    config = model_config("ff", {"hidden": 8, "layers": 1}, 2, SPECTRAL)
    write_model_dir(tmp_path / "model", config, lambda d: (d / "weights.bin").write_bytes(b"w"))
    assert read_config(tmp_path / "model", "weights.bin") == config
    assert SpectralSettings.from_dict(config["spectral"]).to_dict() == SPECTRAL.to_dict()


def test_a_failed_write_leaves_the_previous_model(tmp_path):
    config = model_config("ff", {"hidden": 8}, 2, SPECTRAL)
    write_model_dir(tmp_path / "model", config, lambda d: (d / "weights.bin").write_bytes(b"old"))

    def broken(directory):
        (directory / "weights.bin").write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_model_dir(tmp_path / "model", {**config, "n_sources": 3}, broken)
    assert (tmp_path / "model" / "weights.bin").read_bytes() == b"old" and read_config(tmp_path / "model")["n_sources"] == 2


@pytest.mark.parametrize("missing", [CONFIG_FILE, "weights.bin"])
def test_an_incomplete_folder_is_named_with_what_it_needs(tmp_path, missing):
    write_model_dir(tmp_path / "model", model_config("ff", {}, 2, SPECTRAL), lambda d: (d / "weights.bin").write_bytes(b"w"))
    (tmp_path / "model" / missing).unlink()
    with pytest.raises(CocktailError, match=f"{tmp_path / 'model'} is not a trained model directory.*{CONFIG_FILE} and weights.bin"):
        read_config(tmp_path / "model", "weights.bin")
