import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cocktail.metrics import aggregate, best_permutation_si_snr, score_mixture, si_snr_np


@pytest.mark.parametrize("gain", [0.1, 7.0, -1.0, -3.0])
def test_si_snr_scale_invariant(rng, gain):
    ref = rng.standard_normal(1000)
    est = ref + 0.3 * rng.standard_normal(1000)
    base = si_snr_np(est, ref)
    assert 5 < base < 15
    np.testing.assert_allclose(si_snr_np(gain * est, ref), base, atol=1e-6)


def test_si_snr_ignores_offset(rng):
    ref = rng.standard_normal(1000)
    est = ref + 0.3 * rng.standard_normal(1000)
    np.testing.assert_allclose(si_snr_np(est + 5.0, ref), si_snr_np(est, ref), atol=1e-6)


def test_si_snr_known_value(rng):
    """Orthogonal noise at a quarter of the power: exactly 10 log10(4) dB."""
    ref = np.sin(2 * np.pi * 5 * np.arange(1000) / 1000)
    noise = np.cos(2 * np.pi * 5 * np.arange(1000) / 1000) * 0.5
    np.testing.assert_allclose(si_snr_np(ref + noise, ref), 10 * np.log10(4), atol=1e-6)


def test_si_snr_self_is_very_high(rng):
    ref = rng.standard_normal(1000)
    assert si_snr_np(ref, ref) > 60


@pytest.fixture(scope="module")
def perturbed_swapped():
    rng = np.random.default_rng(7)
    refs = rng.standard_normal((2, 4000))
    estimates = refs[::-1] + 1e-3 * rng.standard_normal((2, 4000))
    return refs, score_mixture(refs.sum(axis=0), refs, estimates)


def test_score_mixture_near_perfect_and_finds_swap(perturbed_swapped):
    refs, rows = perturbed_swapped
    assert [r["source"] for r in rows] == [0, 1]
    assert [r["estimate"] for r in rows] == [1, 0]
    for r in rows:
        assert r["sdr"] > 30 and r["si_snr"] > 30 and r["nsdr"] > 25 and r["si_snri"] > 25
        assert r["samples"] == 4000
        np.testing.assert_allclose(r["nsdr"], r["sdr"] - r["sdr_mixture"])


def test_score_mixture_with_mixture_as_estimates_gives_zero_improvement(rng):
    refs = rng.standard_normal((2, 4000))
    mixture = refs.sum(axis=0)
    rows = score_mixture(mixture, refs, np.stack([mixture, mixture]))
    for r in rows:
        assert abs(r["nsdr"]) < 1e-6
        assert abs(r["si_snri"]) < 1e-6


def test_score_mixture_trims_to_shortest(rng):
    refs = rng.standard_normal((2, 3000))
    rows = score_mixture(refs.sum(axis=0)[:2900], refs, refs[:, :2950] + 1e-3)
    assert all(r["samples"] == 2900 for r in rows)


def test_aggregate_weights_by_samples():
    table = pd.DataFrame(
        {
            "nsdr": [10.0, 0.0],
            "sir": [20.0, 10.0],
            "sar": [4.0, 8.0],
            "sdr": [12.0, 2.0],
            "si_snr": [11.0, 1.0],
            "si_snri": [9.0, -1.0],
            "samples": [3000, 1000],
        }
    )
    agg = aggregate(table)
    assert agg["gnsdr"] == pytest.approx(7.5)
    assert agg["gsir"] == pytest.approx(17.5)
    assert agg["gsar"] == pytest.approx(5.0)
    assert agg["sdri"] == pytest.approx(5.0)
    assert agg["sir"] == pytest.approx(15.0)
    assert agg["sar"] == pytest.approx(6.0)
    assert agg["si_snri"] == pytest.approx(4.0)
    assert agg["si_snr"] == pytest.approx(6.0)
    assert agg["n_sources_scored"] == 2


def test_best_permutation_three_sources(rng):
    refs = rng.standard_normal((3, 1000))
    estimates = refs[[2, 0, 1]] + 0.01 * rng.standard_normal((3, 1000))
    perm, values = best_permutation_si_snr(estimates, refs)
    # estimate perm[r] goes with reference r
    assert tuple(perm) == (1, 2, 0)
    assert values.shape == (3,)
    np.testing.assert_allclose(values, si_snr_np(estimates[list(perm)], refs))
    assert np.all(values > 30)


def test_scoring_never_loads_tensorflow():
    """The oracle stage and BSS Eval's worker processes score in numpy: no TensorFlow start-up (seconds, and its log
    lines in every worker) for a computation that needs none."""
    code = "import sys, cocktail.scoring, cocktail.oracle; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False" and result.stderr == ""
