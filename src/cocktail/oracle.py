"""Separation with ideal masks from the true sources. Kept apart from the model code: the oracle stage needs no trained
model and must not rerun when model code changes."""

import numpy as np

from cocktail.constants import EPS
from cocktail.errors import CocktailError
from cocktail.masks import ideal_binary_mask, ideal_ratio_mask, wiener_like_mask
from cocktail.mixing import MixtureSet
from cocktail.stft import StftConfig, istft, stft

ORACLE_MASKS = {"ibm": ideal_binary_mask, "irm": ideal_ratio_mask, "wiener": wiener_like_mask}


def check_oracle_masks(names: list[str]) -> None:
    """Refuse unknown mask names before any mixture is scored."""
    unknown = [name for name in names if name not in ORACLE_MASKS]
    if unknown:
        raise CocktailError(f"params key 'oracle.masks' names {', '.join(unknown)}: valid masks are {', '.join(ORACLE_MASKS)}.")


def oracle_estimates(mixtures: MixtureSet, mask_name: str, cfg: StftConfig) -> list[np.ndarray]:
    """Ideal masks from the true sources applied to the mixture STFT: the ceiling of every mask model."""
    make_mask = ORACLE_MASKS[mask_name]
    estimates = []
    for mixture, sources in zip(mixtures.mixtures, mixtures.sources):
        spec = stft(mixture, cfg)
        masks = make_mask(np.abs(stft(sources, cfg)) + EPS)
        estimates.append(istft(masks * spec[None], cfg, len(mixture)))
    return estimates
