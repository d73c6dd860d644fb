"""What a trained spectral model needs to run, fixed once by the features stage: the STFT, the voice-activity
threshold, the sample rate and the input normalisation. Apart from features.py (shard writing, targets), so that
the stages that only run a model do not depend on how shards are written."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cocktail.atomic import atomic_path
from cocktail.dsp.stft import StftConfig
from cocktail.errors import CocktailError


@dataclass(frozen=True)
class Normaliser:
    """Per-bin mean and deviation of the training split's log magnitude."""

    mean: np.ndarray
    std: np.ndarray

    def __call__(self, log_mag: np.ndarray) -> np.ndarray:
        return ((log_mag - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "Normaliser":
        return cls(np.asarray(data["mean"], np.float32), np.asarray(data["std"], np.float32))


@dataclass(frozen=True)
class SpectralSettings:
    """What the features stage fixed and inference must repeat: STFT, VAD threshold, rate, normalisation."""

    stft: StftConfig
    vad_db: float
    sample_rate: int
    normaliser: Normaliser

    def to_dict(self) -> dict:
        return {
            "stft": {"n_fft": self.stft.n_fft, "hop_length": self.stft.hop_length},
            "vad_db": self.vad_db,
            "sample_rate": self.sample_rate,
            "normaliser": self.normaliser.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SpectralSettings":
        return cls(StftConfig(**data["stft"]), float(data["vad_db"]), int(data["sample_rate"]), Normaliser.from_dict(data["normaliser"]))

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> "SpectralSettings":
        path = Path(path)
        if not path.is_file():
            raise CocktailError(f"{path} not found: run the features stage first (`dvc repro features`).")
        return cls.from_dict(json.loads(path.read_text()))
