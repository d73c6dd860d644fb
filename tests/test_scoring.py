"""Scoring a separated set, and the oracle masks that bound it: the known values (a perfect estimate, the mixture
itself, masks from the true sources) on a few synthetic mixtures, without the pipeline around them."""

import numpy as np
import pandas as pd
import pytest

from cocktail.errors import CocktailError
from cocktail.mixing import MixtureSet
from cocktail.oracle import ORACLE_MASKS, check_oracle_masks, oracle_estimates
from cocktail.scoring import score_all, summarise
from cocktail.stft import StftConfig

CFG = StftConfig(n_fft=256, hop_length=64)


@pytest.fixture(scope="module")
def mixtures():
    """Three mixtures of two tones in noise, far apart in frequency, so ideal masks separate them almost perfectly."""
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 8000
    sets = []
    for i in range(3):
        low = np.sin(2 * np.pi * (200 + 20 * i) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        high = 0.7 * np.sin(2 * np.pi * (2500 + 50 * i) * t) * (1 + 0.5 * np.cos(2 * np.pi * 2 * t))
        sources = np.stack([low, high]).astype(np.float32) + 0.001 * rng.standard_normal((2, len(t))).astype(np.float32)
        sets.append(sources)
    table = pd.DataFrame({"mix_id": [f"m{i}" for i in range(3)]})
    return MixtureSet([s.sum(axis=0) for s in sets], sets, table)


def test_perfect_estimates_score_very_high_and_the_mixture_scores_zero(mixtures):
    perfect = summarise(score_all(mixtures, [s[::-1].copy() for s in mixtures.sources], "perfect"))
    assert perfect["gnsdr"] > 40 and perfect["si_snri"] > 40, "order is found by permutation, not given"
    unchanged = score_all(mixtures, [np.stack([m, m]) for m in mixtures.mixtures], "mixture")
    np.testing.assert_allclose(unchanged["nsdr"], 0.0, atol=1e-6)
    np.testing.assert_allclose(unchanged["si_snri"], 0.0, atol=1e-6)


def test_scores_keep_mixture_order_and_one_row_per_source(mixtures):
    per_source = score_all(mixtures, [s + 0.05 for s in mixtures.sources], "noisy")
    assert list(per_source["mix_id"]) == ["m0", "m0", "m1", "m1", "m2", "m2"]
    assert list(per_source["source"]) == [0, 1] * 3
    assert set(summarise(per_source)) >= {"gnsdr", "gsir", "gsar", "sdri", "si_snri"}


@pytest.mark.parametrize("mask", list(ORACLE_MASKS))
def test_oracle_masks_separate_sources_apart_in_frequency(mixtures, mask):
    estimates = oracle_estimates(mixtures, mask, CFG)
    assert [e.shape for e in estimates] == [s.shape for s in mixtures.sources]
    assert summarise(score_all(mixtures, estimates, mask))["gnsdr"] > 15


def test_unknown_oracle_mask_is_named():
    with pytest.raises(CocktailError, match="oracle.masks.*ideal"):
        check_oracle_masks(["ibm", "ideal"])
