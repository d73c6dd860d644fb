"""Separation with ideal masks from the true sources. Kept apart from the model code: the oracle stage needs no trained
model and must not rerun when model code changes."""

import numpy as np

from cocktail.constants import EPS
from cocktail.data.mixture_set import MixtureSet
from cocktail.dsp.masks import ideal_binary_mask, ideal_ratio_mask, wiener_like_mask
from cocktail.dsp.stft import StftConfig, istft, stft
from cocktail.params import checked_choice

ORACLE_MASKS = {"ibm": ideal_binary_mask, "irm": ideal_ratio_mask, "wiener": wiener_like_mask}
CLEAN_RESIDUAL = 1e-6  # the sources' sum differs from a clean mixture by float32 rounding only (about 1e-14 of its power)


def check_oracle_masks(names: list[str]) -> None:
    """Refuse unknown mask names before any mixture is scored."""
    for name in names:
        checked_choice("oracle.masks", name, ORACLE_MASKS, " for each mask in the list")


def interference(mixture: np.ndarray, sources: np.ndarray) -> np.ndarray | None:
    """What the mixture holds beside its targets (noise, and the reverberation of direct-path targets), or None for
    a clean mixture: it belongs to no source, so the ideal masks must leave it out."""
    residual = mixture.astype(np.float64) - sources.astype(np.float64).sum(axis=0)
    power = np.mean(np.square(mixture, dtype=np.float64))
    return residual if np.mean(residual**2) > CLEAN_RESIDUAL * power else None


def oracle_estimates(mixtures: MixtureSet, mask_name: str, cfg: StftConfig) -> list[np.ndarray]:
    """Ideal masks from the true sources applied to the mixture STFT: the ceiling of every mask model. Where the
    mixture holds noise or reverberation, it competes for each bin as one more source whose mask is dropped."""
    make_mask = ORACLE_MASKS[mask_name]
    estimates = []
    for mixture, sources in zip(mixtures.mixtures, mixtures.sources):
        spec = stft(mixture, cfg)
        rest = interference(mixture, sources)
        components = sources if rest is None else np.concatenate([sources, rest[None].astype(sources.dtype)])
        masks = make_mask(np.abs(stft(components, cfg)) + EPS)[: len(sources)]
        estimates.append(istft(masks * spec[None], cfg, len(mixture)))
    return estimates
