"""What an architecture module declares: its params, its Keras model, its loss and its inference."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cocktail.features import Normaliser

INFERENCES = ("mask", "clustering", "time")
# Every architecture section also holds its own training budget, so sizing one model retrains only it.
BUDGET_KEYS = ("epochs", "batch_size", "learning_rate")


@dataclass(frozen=True)
class Architecture:
    name: str  # also the params.yaml section that holds its settings
    inference: str  # one of INFERENCES: how `separate` turns outputs into sources
    params: tuple[str, ...]  # keys its section must hold
    build: Callable  # (section, n_bins, n_sources) -> keras.Model
    loss: Callable  # (section) -> keras loss function
    training_pairs: Callable  # (features, normaliser) -> (inputs, targets)
    max_sources: int | None = None  # None: any number of sources


def mask_pairs(features: dict[str, np.ndarray], normaliser: Normaliser):
    """Normalised log magnitude in, ideal binary masks (frames, bins, sources) out."""
    return normaliser(features["log_mag"].astype(np.float32)), features["ibm"]


def embedding_pairs(features: dict[str, np.ndarray], normaliser: Normaliser):
    """Normalised log magnitude in; IBM and voice-activity weight packed as the last channel out."""
    targets = np.concatenate([features["ibm"], features["vad"][..., None]], axis=-1)
    return normaliser(features["log_mag"].astype(np.float32)), targets


def waveform_pairs(features: dict[str, np.ndarray], normaliser: Normaliser):
    """Mixture segments in, source segments (sources, samples) out; no spectral features."""
    return features["mix_wave"], features["src_wave"]
