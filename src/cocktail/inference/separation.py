"""Turning a trained model's outputs into sources: mask, clustering or time-domain inference.

A model directory holds the learned values and everything inference needs (architecture
settings, STFT, normalisation, sample rate), so a model separates without params.yaml."""

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.cluster import KMeans

from cocktail.dsp.masks import log_magnitude, nearest_centre, squared_distances, voice_activity_weights
from cocktail.dsp.spectral import SpectralSettings
from cocktail.dsp.stft import istft, stft
from cocktail.errors import CocktailError
from cocktail.models import get_architecture, names_where
from cocktail.models.base import Inference, Separation
from cocktail.models.model_dir import model_config, read_config, write_model_dir

WEIGHTS_FILE = "model.weights.h5"
CLUSTERINGS = ("kmeans", "meanshift")
MEANSHIFT_SAMPLE = 2000  # bins mean-shift clusters per mixture: its cost grows with the square
# Seeds are sampled bins: grid seeds (bin_seeding) can land far from every point in 40 dimensions.
MEANSHIFT_SEEDS = 200


@dataclass
class Separator:
    """A Keras model and the inference its architecture names."""

    architecture_name: str
    section: dict
    model: keras.Model
    spectral: SpectralSettings
    n_sources: int
    clustering: str = "kmeans"  # embedding models only: kmeans (k = sources) or meanshift (no k)
    meanshift_quantile: float = 0.2  # bandwidth as a quantile of pairwise embedding distances
    meanshift_min_share: float = 0.05  # share of bins a mode must hold to count as a source

    def __post_init__(self):
        # One trace for every input length: eager BLSTMs are slow and per-length retracing is slower.
        shape = [1, None] if self.inference.time_domain else [1, None, self.spectral.stft.n_bins]
        # float32 out whatever the precision the model was trained in: clustering and the inverse STFT want it.
        self._forward = tf.function(
            lambda x: tf.cast(self.model(x, training=False), tf.float32), input_signature=[tf.TensorSpec(shape, tf.float32)]
        )

    @property
    def inference(self) -> Inference:
        return get_architecture(self.architecture_name).inference

    @property
    def parameter_count(self) -> int:
        return int(self.model.count_params())

    def separate(self, mixture: np.ndarray, n_sources: int | None = None, utt_ids: list[str] | None = None) -> Separation:
        """`n_sources` only matters to embedding models, which may be asked for more than they were trained on."""
        n_sources = n_sources or self.n_sources
        if self.inference.time_domain:
            return Separation(self._forward(mixture[None].astype(np.float32)).numpy()[0])
        spec, outputs = self.spectral_outputs(mixture)
        if self.inference.clusters:
            masks = self.embedding_masks(outputs, voice_activity_weights(np.abs(spec), self.spectral.vad_db), n_sources)
        else:
            masks = np.moveaxis(outputs, -1, 0)
        return Separation(istft(masks * spec[None], self.spectral.stft, len(mixture)), masks)

    def spectral_outputs(self, mixture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mixture's STFT and the network's per-bin outputs for it: masks, or embeddings to cluster."""
        spec = stft(mixture, self.spectral.stft)
        inputs = self.spectral.normaliser(log_magnitude(np.abs(spec)))[None]
        return spec, self._forward(inputs).numpy()[0]

    def embedding_masks(self, embeddings: np.ndarray, active: np.ndarray, n_sources: int) -> np.ndarray:
        """Cluster the active bins' embeddings; the architecture turns the centres into masks for every bin."""
        frames, bins, dim = embeddings.shape
        flat = embeddings.reshape(-1, dim)
        fit_on = flat[active.reshape(-1) > 0]
        if len(fit_on) < n_sources:
            fit_on = flat
        if self.clustering == "meanshift":
            centres = meanshift_centres(fit_on, self.meanshift_quantile, self.meanshift_min_share)
        else:
            centres = kmeans_centres(fit_on, n_sources)
        masks = get_architecture(self.architecture_name).embedding_masks(flat, centres, self.section)
        return masks.reshape(len(centres), frames, bins)

    def save(self, directory: str | Path) -> None:
        config = model_config(self.architecture_name, self.section, self.n_sources, self.spectral)
        write_model_dir(directory, config, lambda tmp: self.model.save_weights(tmp / WEIGHTS_FILE))

    @classmethod
    def load(cls, directory: str | Path) -> "Separator":
        config = read_config(directory, WEIGHTS_FILE)
        architecture = get_architecture(config["architecture"])
        spectral = SpectralSettings.from_dict(config["spectral"])
        model = architecture.build(config["section"], spectral.stft.n_bins, config["n_sources"])
        model.load_weights(Path(directory) / WEIGHTS_FILE)
        return cls(config["architecture"], config["section"], model, spectral, config["n_sources"])

    @classmethod
    def create(cls, architecture_name: str, section: dict, spectral: SpectralSettings, n_sources: int) -> "Separator":
        model = get_architecture(architecture_name).build(section, spectral.stft.n_bins, n_sources)
        return cls(architecture_name, section, model, spectral, n_sources)


def load_separator(directory: str | Path):
    """The separator of whatever architecture the directory holds."""
    architecture = get_architecture(read_config(directory)["architecture"])
    return (architecture.separator or Separator).load(directory)


def kmeans_centres(points: np.ndarray, n_sources: int, seed: int = 0) -> np.ndarray:
    return KMeans(n_clusters=n_sources, n_init=3, random_state=seed).fit(points).cluster_centers_


def meanshift_centres(points: np.ndarray, quantile: float, min_share: float = 0.05, seed: int = 0) -> np.ndarray:
    """Modes of the embedding density, most populated first: the number of sources is found, not given."""
    rng = np.random.default_rng(seed)
    sample = points[rng.choice(len(points), size=min(len(points), MEANSHIFT_SAMPLE), replace=False)]
    bandwidth = max(quantile_bandwidth(sample, quantile), 1e-3)
    centres = distinct_modes(*flat_kernel_modes(sample, sample[:MEANSHIFT_SEEDS], bandwidth), bandwidth)  # sample is shuffled
    labels = nearest_centre(sample, centres)
    shares = np.bincount(labels, minlength=len(centres)) / len(sample)
    keep = shares >= min_share
    return centres[keep if keep.any() else np.argmax(shares)[None]]


def quantile_bandwidth(points: np.ndarray, quantile: float) -> float:
    """scikit-learn's estimate_bandwidth on every point: the mean distance from a point to its k-th nearest (itself
    first), k the quantile's share of the points."""
    points = points.astype(np.float64)
    k = max(int(len(points) * quantile), 1)
    return float(np.sqrt(np.partition(squared_distances(points, points), k - 1, axis=1)[:, k - 1]).mean())


def flat_kernel_modes(points: np.ndarray, seeds: np.ndarray, bandwidth: float, max_iter: int = 300):
    """scikit-learn's mean shift (flat kernel; a seed stops when it moves under 1e-3 bandwidths) for every seed at
    once: its one-seed-at-a-time loop took 13 s a mixture. Each mode comes with the number of points within reach."""
    points = points.astype(np.float64)
    means = seeds.astype(np.float64)
    counts = np.zeros(len(means), int)
    moving = np.arange(len(means))
    for step in range(max_iter + 1):
        within = squared_distances(means[moving], points) <= bandwidth**2
        counts[moving] = within.sum(1)
        reached = counts[moving] > 0
        shifted = (within @ points) / np.maximum(counts[moving], 1)[:, None]
        still = reached & (np.linalg.norm(shifted - means[moving], axis=1) > 1e-3 * bandwidth) & (step < max_iter)
        means[moving[reached]] = shifted[reached]
        moving = moving[still]
        if not len(moving):
            break
    return means[counts > 0], counts[counts > 0]


def distinct_modes(modes: np.ndarray, counts: np.ndarray, bandwidth: float) -> np.ndarray:
    """Modes closer than a bandwidth to a more populated one are the same mode."""
    kept = []
    for index in np.argsort(-counts, kind="stable"):
        if not kept or squared_distances(modes[index][None], modes[kept]).min() > bandwidth**2:
            kept.append(index)
    return modes[kept]


def check_source_count(separator, n_sources: int, asked_by: str, remedy: str) -> None:
    """Only clustering and dictionary models choose the number of sources at inference."""
    name = separator.architecture_name
    if n_sources != separator.n_sources and not separator.inference.chooses_source_count:
        choosers = ", ".join(names_where(lambda a: a.inference.chooses_source_count))
        raise CocktailError(
            f"{asked_by} is {n_sources} but model '{name}' was trained on {separator.n_sources} sources and has that many "
            f"outputs. Only clustering and dictionary models ({choosers}) choose the number of sources at inference: {remedy}."
        )
