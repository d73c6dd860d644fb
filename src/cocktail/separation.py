"""Turning a trained model's outputs into sources: mask, clustering or time-domain inference.

A model directory holds the weights and everything inference needs (architecture settings,
STFT, normalisation, sample rate), so a model separates without params.yaml."""

import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.cluster import KMeans

from cocktail.atomic import atomic_dir
from cocktail.errors import CocktailError
from cocktail.features import SpectralSettings
from cocktail.masks import log_magnitude, voice_activity_weights
from cocktail.models import get_architecture
from cocktail.stft import istft, stft

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"


@dataclass
class Separation:
    sources: np.ndarray  # (n_sources, samples)
    masks: np.ndarray | None = None  # (n_sources, frames, bins) for spectral models


@dataclass
class Separator:
    architecture_name: str
    section: dict
    model: keras.Model
    spectral: SpectralSettings
    n_sources: int

    def __post_init__(self):
        # One trace for every input length: eager BLSTMs are slow and per-length retracing is slower.
        shape = [1, None] if self.inference == "time" else [1, None, self.spectral.stft.n_bins]
        self._forward = tf.function(
            lambda x: self.model(x, training=False), input_signature=[tf.TensorSpec(shape, tf.float32)]
        )

    @property
    def inference(self) -> str:
        return get_architecture(self.architecture_name).inference

    def separate(self, mixture: np.ndarray, n_sources: int | None = None) -> Separation:
        n_sources = n_sources or self.n_sources
        if self.inference == "time":
            return Separation(self._forward(mixture[None].astype(np.float32)).numpy()[0])
        cfg = self.spectral.stft
        spec = stft(mixture, cfg)
        inputs = self.spectral.normaliser(log_magnitude(np.abs(spec)))[None]
        outputs = self._forward(inputs).numpy()[0]
        if self.inference == "mask":
            masks = np.moveaxis(outputs, -1, 0)
        else:
            masks = cluster_masks(outputs, voice_activity_weights(np.abs(spec), self.spectral.vad_db), n_sources)
        return Separation(istft(masks * spec[None], cfg, len(mixture)), masks)

    def config(self) -> dict:
        return {
            "architecture": self.architecture_name,
            "section": self.section,
            "n_sources": self.n_sources,
            "spectral": self.spectral.to_dict(),
        }

    def save(self, directory: str | Path) -> None:
        with atomic_dir(directory) as tmp:
            self.model.save_weights(tmp / WEIGHTS_FILE)
            (tmp / CONFIG_FILE).write_text(json.dumps(self.config(), indent=1))

    @classmethod
    def load(cls, directory: str | Path) -> "Separator":
        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file() or not (directory / WEIGHTS_FILE).is_file():
            raise CocktailError(
                f"{directory} is not a trained model directory (it needs {CONFIG_FILE} and {WEIGHTS_FILE}): "
                "run `dvc repro train` or point to the folder the train stage wrote."
            )
        config = json.loads((directory / CONFIG_FILE).read_text())
        architecture = get_architecture(config["architecture"])
        spectral = SpectralSettings.from_dict(config["spectral"])
        model = architecture.build(config["section"], spectral.stft.n_bins, config["n_sources"])
        model.load_weights(directory / WEIGHTS_FILE)
        return cls(config["architecture"], config["section"], model, spectral, config["n_sources"])

    @classmethod
    def create(cls, architecture_name: str, section: dict, spectral: SpectralSettings, n_sources: int) -> "Separator":
        model = get_architecture(architecture_name).build(section, spectral.stft.n_bins, n_sources)
        return cls(architecture_name, section, model, spectral, n_sources)


def cluster_masks(embeddings: np.ndarray, active: np.ndarray, n_sources: int, seed: int = 0) -> np.ndarray:
    """k-means on the active bins' embeddings; every bin then joins its nearest centre (binary masks)."""
    frames, bins, dim = embeddings.shape
    flat = embeddings.reshape(-1, dim)
    fit_on = flat[active.reshape(-1) > 0]
    if len(fit_on) < n_sources:
        fit_on = flat
    kmeans = KMeans(n_clusters=n_sources, n_init=3, random_state=seed).fit(fit_on)
    labels = kmeans.predict(flat).reshape(frames, bins)
    return (labels[None] == np.arange(n_sources)[:, None, None]).astype(np.float32)
