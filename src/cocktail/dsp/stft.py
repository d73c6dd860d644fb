"""The one STFT of the project: square-root Hann analysis and synthesis, which reconstructs exactly."""

from dataclasses import dataclass

import librosa
import numpy as np

from cocktail.params import Range


@dataclass(frozen=True)
class StftConfig:
    n_fft: int = 256
    hop_length: int = 64

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @classmethod
    def from_params(cls, section: dict) -> "StftConfig":
        n_fft = int(section["n_fft"])
        hop = Range(int, 1, n_fft, why=f" samples, at most features.n_fft ({n_fft})").check("features.hop_length", section["hop_length"])
        return cls(n_fft=n_fft, hop_length=hop)


def sqrt_hann(n_fft: int) -> np.ndarray:
    return np.sqrt(librosa.filters.get_window("hann", n_fft, fftbins=True)).astype(np.float32)


def stft(signal: np.ndarray, cfg: StftConfig) -> np.ndarray:
    """Complex spectrogram, time first: (..., frames, bins)."""
    spec = librosa.stft(
        np.asarray(signal, dtype=np.float32), n_fft=cfg.n_fft, hop_length=cfg.hop_length, window=sqrt_hann(cfg.n_fft)
    )
    return np.swapaxes(spec, -1, -2)


def istft(spec: np.ndarray, cfg: StftConfig, length: int) -> np.ndarray:
    """Inverse of `stft` for a (..., frames, bins) spectrogram, trimmed or padded to `length` samples."""
    return librosa.istft(
        np.swapaxes(spec, -1, -2), hop_length=cfg.hop_length, window=sqrt_hann(cfg.n_fft), n_fft=cfg.n_fft, length=length
    ).astype(np.float32)
