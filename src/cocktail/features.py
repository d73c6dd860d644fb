"""Network inputs and targets from mixtures: one stage serves every architecture.

Spectral models get 100-frame chunks of log magnitude with the ideal binary mask, source
magnitudes and voice-activity weights; time-domain models get waveform segments."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cocktail.atomic import atomic_path
from cocktail.errors import CocktailError
from cocktail.masks import MAGNITUDE_FLOOR, ideal_binary_mask, log_magnitude, voice_activity_weights
from cocktail.mixing import MixtureSet
from cocktail.stft import StftConfig, stft


# Padding past an utterance's end must look like silence to the network, not like a loud bin.
SILENT_LOG_MAGNITUDE = float(np.log(MAGNITUDE_FLOOR))


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

    @classmethod
    def fit(cls, log_mags: np.ndarray) -> "Normaliser":
        flat = log_mags.reshape(-1, log_mags.shape[-1]).astype(np.float64)
        return cls(flat.mean(axis=0).astype(np.float32), np.maximum(flat.std(axis=0), 1e-3).astype(np.float32))


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


def window_starts(total: int, size: int) -> list[int]:
    """Non-overlapping windows, plus one flush with the end so no frame is dropped."""
    if total <= size:
        return [0]
    starts = list(range(0, total - size + 1, size))
    if starts[-1] + size < total:
        starts.append(total - size)
    return starts


def fit_window(array: np.ndarray, start: int, size: int, axis: int, fill: float = 0.0) -> np.ndarray:
    """Slice `size` items from `start` along `axis`, padding with `fill` when the array is shorter."""
    piece = np.take(array, np.arange(start, min(start + size, array.shape[axis])), axis=axis)
    missing = size - piece.shape[axis]
    if missing:
        pad = [(0, 0)] * array.ndim
        pad[axis] = (0, missing)
        piece = np.pad(piece, pad, constant_values=fill)
    return piece


def spectral_targets(mixture: np.ndarray, sources: np.ndarray, cfg: StftConfig, vad_db: float) -> dict[str, np.ndarray]:
    """Whole-utterance log magnitude (T, F), source magnitudes and IBM (T, F, C), VAD weights (T, F)."""
    mix_mag = np.abs(stft(mixture, cfg))
    src_mag = np.abs(stft(sources, cfg))
    return {
        "log_mag": log_magnitude(mix_mag),
        "src_mag": np.moveaxis(src_mag, 0, -1),
        "ibm": np.moveaxis(ideal_binary_mask(src_mag), 0, -1),
        "vad": voice_activity_weights(mix_mag, vad_db),
    }


def build_features(mixset: MixtureSet, cfg: StftConfig, vad_db: float, chunk_frames: int, segment_samples: int) -> dict[str, np.ndarray]:
    """Chunks of spectral features and waveform segments for one split."""
    chunks: dict[str, list] = {"log_mag": [], "src_mag": [], "ibm": [], "vad": []}
    mix_wave, src_wave = [], []
    for mixture, sources in zip(mixset.mixtures, mixset.sources):
        targets = spectral_targets(mixture, sources, cfg, vad_db)
        for start in window_starts(len(targets["log_mag"]), chunk_frames):
            for key, value in targets.items():
                fill = SILENT_LOG_MAGNITUDE if key == "log_mag" else 0.0
                chunks[key].append(fit_window(value, start, chunk_frames, axis=0, fill=fill))
        for start in window_starts(len(mixture), segment_samples):
            mix_wave.append(fit_window(mixture, start, segment_samples, axis=0))
            src_wave.append(fit_window(sources, start, segment_samples, axis=1))
    return {
        "log_mag": np.stack(chunks["log_mag"]).astype(np.float16),
        "src_mag": np.stack(chunks["src_mag"]).astype(np.float16),
        "ibm": np.stack(chunks["ibm"]).astype(np.uint8),
        "vad": np.stack(chunks["vad"]).astype(np.uint8),
        "mix_wave": np.stack(mix_wave).astype(np.float32),
        "src_wave": np.stack(src_wave).astype(np.float32),
    }

