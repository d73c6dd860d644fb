"""What an architecture module declares: its params, its model, its loss and its inference."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cocktail.errors import CocktailError
from cocktail.features import Normaliser
from cocktail.losses import mask_mse_fixed, mask_mse_pit

# mask: one mask per source; clustering: embeddings grouped into sources; time: waveforms out;
# dictionary: supervised NMF with the test speakers' own dictionaries (oracle speaker identity).
INFERENCES = ("mask", "clustering", "time", "dictionary")
# Every gradient-trained section also holds its own training budget, so sizing one model retrains only it.
BUDGET_KEYS = ("epochs", "batch_size", "learning_rate")


@dataclass
class Separation:
    sources: np.ndarray  # (n_sources, samples)
    masks: np.ndarray | None = None  # (n_sources, frames, bins) for spectral models


@dataclass(frozen=True)
class Architecture:
    name: str  # also the params.yaml section that holds its settings
    inference: str  # one of INFERENCES: how a separator turns outputs into sources
    params: tuple[str, ...]  # keys its section must hold
    build: Callable | None = None  # (section, n_bins, n_sources) -> keras.Model
    loss: Callable | None = None  # (section) -> keras loss function
    training_pairs: Callable | None = None  # (features, normaliser) -> (inputs, targets)
    # Embedding models: (embeddings (N, D), centres (C, D), section) -> (C, N) masks.
    embedding_masks: Callable | None = None
    # Models learned without gradients: (section, spectral, prepared audio, manifest, seed) -> separator.
    learn: Callable | None = None
    # Models whose separator is not the Keras one (it must offer load(directory, config)).
    separator: type | None = None

    @property
    def trained_by_gradient(self) -> bool:
        return self.learn is None

    @property
    def chooses_source_count(self) -> bool:
        """Clustering and dictionary models separate any number of sources without retraining."""
        return self.inference in ("clustering", "dictionary")


def mask_pairs(features: dict[str, np.ndarray], normaliser: Normaliser):
    """Normalised log magnitude in, ideal binary masks (frames, bins, sources) out."""
    return normaliser(features["log_mag"].astype(np.float32)), features["ibm"]


def embedding_pairs(features: dict[str, np.ndarray], normaliser: Normaliser):
    """Normalised log magnitude in; IBM and voice-activity weight packed as the last channel out."""
    targets = np.concatenate([features["ibm"], features["vad"][..., None]], axis=-1)
    return normaliser(features["log_mag"].astype(np.float32)), targets


def attractor_pairs(features: dict[str, np.ndarray], normaliser: Normaliser):
    """Normalised log magnitude in; IBM (C), VAD (1), mixture magnitude (1) and source magnitudes (C) out."""
    log_mag = features["log_mag"].astype(np.float32)
    targets = np.concatenate(
        [features["ibm"], features["vad"][..., None], np.exp(log_mag)[..., None], features["src_mag"]], axis=-1
    ).astype(np.float32)
    return normaliser(log_mag), targets


def waveform_pairs(features: dict[str, np.ndarray], normaliser: Normaliser):
    """Mixture segments in, source segments (sources, samples) out; no spectral features."""
    return features["mix_wave"], features["src_wave"]


def mask_loss(section, name: str):
    """The `permutation: fixed | pit` choice of the mask networks."""
    losses = {"fixed": mask_mse_fixed, "pit": mask_mse_pit}
    if section["permutation"] not in losses:
        raise CocktailError(f"params key '{name}.permutation' is '{section['permutation']}': use 'fixed' or 'pit'.")
    return losses[section["permutation"]]
