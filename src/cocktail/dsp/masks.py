"""Ideal masks and the voice-activity weight: training targets for mask and embedding models, and the oracle; and the
nearest-centre assignment that turns clustered embeddings into masks."""

import numpy as np

from cocktail.constants import EPS


def ideal_binary_mask(source_mags: np.ndarray) -> np.ndarray:
    """(C, T, F) source magnitudes -> (C, T, F) uint8, 1 where that source dominates the bin."""
    dominant = np.argmax(source_mags, axis=0)
    return (dominant[None] == np.arange(source_mags.shape[0])[:, None, None]).astype(np.uint8)


def ideal_ratio_mask(source_mags: np.ndarray) -> np.ndarray:
    """Each source's share of the summed magnitudes: soft, sums to one per bin."""
    return (source_mags / (source_mags.sum(axis=0, keepdims=True) + EPS)).astype(np.float32)


def wiener_like_mask(source_mags: np.ndarray) -> np.ndarray:
    """Power ratio |S_c|^2 / sum |S|^2: sharper than the IRM, softer than the IBM."""
    power = source_mags.astype(np.float64) ** 2
    return (power / (power.sum(axis=0, keepdims=True) + EPS)).astype(np.float32)


def voice_activity_weights(mixture_mag: np.ndarray, threshold_db: float) -> np.ndarray:
    """1 for bins within `threshold_db` of the mixture's loudest bin: silent bins carry no source identity."""
    floor = mixture_mag.max() * 10.0 ** (-threshold_db / 20.0)
    return (mixture_mag >= floor).astype(np.uint8)


MAGNITUDE_FLOOR = 1e-6


def log_magnitude(mag: np.ndarray) -> np.ndarray:
    return np.log(mag + MAGNITUDE_FLOOR).astype(np.float32)


def mask_accuracy(estimated_masks: np.ndarray, ibm: np.ndarray, weights: np.ndarray) -> float:
    """Share of active bins where the mask thresholded at 0.5 equals the IBM (estimates already in IBM order)."""
    agree = ((estimated_masks > 0.5) == (ibm > 0)).all(axis=0)
    active = weights > 0
    return float(agree[active].mean()) if active.any() else float("nan")


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, D) and (B, D) -> (A, B) as one matrix product: no (A, B, D) array for the many bins of a mixture."""
    return np.maximum((a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T, 0)


def nearest_centre(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.argmin(squared_distances(points, centres), axis=1)
