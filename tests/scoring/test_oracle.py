"""The oracle masks, the ceiling of every mask model: masks from the true sources on tone mixtures whose sources lie
apart in frequency, with and without noise that belongs to no source."""

import numpy as np
import pandas as pd
import pytest

from cocktail.constants import EPS
from cocktail.data.mixture_set import MixtureSet
from cocktail.dsp.stft import StftConfig, istft, stft
from cocktail.errors import CocktailError
from cocktail.scoring.metrics import si_snr_np
from cocktail.scoring.oracle import ORACLE_MASKS, check_oracle_masks, interference, oracle_estimates

CFG = StftConfig(n_fft=256, hop_length=64)
RATE = 8000


def tone_mixtures(noise_rms: float = 0.0) -> MixtureSet:
    """Three mixtures of a low and a high tone, each slowly modulated; `noise_rms` adds white noise to the mixture only."""
    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    mixtures, sets = [], []
    for i in range(3):
        low = np.sin(2 * np.pi * (200 + 20 * i) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        high = 0.7 * np.sin(2 * np.pi * (2500 + 50 * i) * t) * (1 + 0.5 * np.cos(2 * np.pi * 2 * t))
        sources = np.stack([low, high]).astype(np.float32)
        sets.append(sources)
        mixtures.append((sources.sum(axis=0) + noise_rms * rng.standard_normal(len(t))).astype(np.float32))
    return MixtureSet(mixtures, sets, pd.DataFrame({"mix_id": [f"m{i}" for i in range(3)]}))


def mean_si_snr(estimates: list[np.ndarray], mixtures: MixtureSet) -> float:
    return float(np.mean([si_snr_np(e, s) for e, s in zip(estimates, mixtures.sources)]))


@pytest.mark.parametrize("mask", list(ORACLE_MASKS))
def test_oracle_masks_separate_sources_apart_in_frequency(mask):
    mixtures = tone_mixtures()
    estimates = oracle_estimates(mixtures, mask, CFG)
    assert [e.shape for e in estimates] == [s.shape for s in mixtures.sources]
    assert mean_si_snr(estimates, mixtures) > 15


def test_a_clean_mixture_has_no_interference_and_a_noisy_one_has_its_noise():
    clean, noisy = tone_mixtures(), tone_mixtures(noise_rms=0.1)
    assert interference(clean.mixtures[0], clean.sources[0]) is None, "float32 rounding is not noise"
    rest = interference(noisy.mixtures[0], noisy.sources[0])
    assert rest is not None and abs(np.std(rest) - 0.1) < 0.01


@pytest.mark.parametrize("mask", list(ORACLE_MASKS))
def test_noise_competes_for_each_bin_and_is_left_out(mask):
    """The noise's own mask is dropped: estimates are closer to the clean sources than the mixture is, and closer
    than masks from the sources alone, which share the noise out among them."""
    noisy = tone_mixtures(noise_rms=0.3)
    estimates = oracle_estimates(noisy, mask, CFG)
    masks_ignoring_noise = [
        istft(ORACLE_MASKS[mask](np.abs(stft(s, CFG)) + EPS) * stft(m, CFG)[None], CFG, len(m))
        for m, s in zip(noisy.mixtures, noisy.sources)
    ]
    mixture_baseline = float(np.mean([si_snr_np(np.stack([m, m]), s) for m, s in zip(noisy.mixtures, noisy.sources)]))
    assert mean_si_snr(estimates, noisy) > mixture_baseline + 5
    assert mean_si_snr(estimates, noisy) > mean_si_snr(masks_ignoring_noise, noisy)


def test_unknown_oracle_mask_is_named():
    with pytest.raises(CocktailError, match="oracle.masks.*ideal"):
        check_oracle_masks(["ibm", "ideal"])
