"""What an architecture module declares: its params, its model, its loss and its inference."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cocktail.dsp.spectral import Normaliser
from cocktail.models.losses import mask_mse_fixed, mask_mse_pit
from cocktail.params import WHOLE, Range, checked_choice

# Every gradient-trained section also holds its own training budget, so sizing one model retrains only it.
BUDGET = {"epochs": WHOLE, "batch_size": WHOLE, "learning_rate": Range(float, 0, 1, low_open=True)}
DROPOUT = Range(float, 0, 1, high_open=True, why=": the share of units dropped")
# The declarations the recurrent mask networks share, and the embedding networks (deep clustering, DANet).
MASK_NETWORK_PARAMS = {"hidden": WHOLE, "layers": WHOLE, "dropout": DROPOUT, "permutation": None}
MASK_NETWORK_TINY = {"hidden": 8, "layers": 1, "dropout": 0.0, "permutation": "pit"}
EMBEDDING_NETWORK_PARAMS = {"hidden": WHOLE, "layers": WHOLE, "dropout": DROPOUT, "embedding_dim": WHOLE}
EMBEDDING_NETWORK_TINY = {"hidden": 8, "layers": 1, "dropout": 0.0, "embedding_dim": 4}


@dataclass
class Separation:
    sources: np.ndarray  # (n_sources, samples)
    masks: np.ndarray | None = None  # (n_sources, frames, bins) for spectral models


@dataclass(frozen=True)
class Inference:
    """How a separator turns a network's outputs into sources, and what the rest of the pipeline may ask of it."""

    name: str
    time_domain: bool  # waveforms in, waveforms out (learns from waveform segments); otherwise masks on the mixture's STFT
    clusters: bool = False  # groups per-bin embeddings: k-means, or mean-shift that finds the number of sources itself
    chooses_source_count: bool = False  # separates any number of sources without retraining
    separates_recordings: bool = True  # False: needs the test utterances' identities, so no new recording

    @property
    def gives_masks(self) -> bool:
        return not self.time_domain

    @property
    def example_kind(self) -> str:
        """The features stage's examples it learns from."""
        return "waveform" if self.time_domain else "spectral"


MASK = Inference("mask", time_domain=False)
CLUSTERING = Inference("clustering", time_domain=False, clusters=True, chooses_source_count=True)
TIME_DOMAIN = Inference("time", time_domain=True)
# Supervised NMF with the test speakers' own dictionaries (oracle speaker identity).
DICTIONARY = Inference("dictionary", time_domain=False, chooses_source_count=True, separates_recordings=False)


@dataclass(frozen=True)
class Architecture:
    name: str  # also its module's name and the params.yaml section that holds its settings
    inference: Inference
    # Keys its section must hold, each with its Range (None: not a number, checked where it is used).
    params: dict[str, Range | None]
    # The paper's (or the reference recipe's) settings, one `-S` each away from params.yaml's defaults.
    reference: dict
    # The smallest settings that still build every part of the network: what tests and the tiny pipeline train.
    tiny: dict
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
    return losses[checked_choice(f"{name}.permutation", section["permutation"], losses)]
