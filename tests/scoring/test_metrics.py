import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pystoi import stoi

from cocktail.dsp.audio import resample
from cocktail.scoring import metrics
from cocktail.scoring.metrics import (
    aggregate,
    best_permutation_si_snr,
    mixture_sdr,
    perceptual_scores,
    pesq_setting,
    score_mixture,
    si_snr_np,
)

PERCEPTUAL_COLUMNS = [f"{m}{suffix}" for m in ("pesq", "stoi", "estoi") for suffix in ("", "_mixture", "_i")]


VOWELS = ((700, 1200), (400, 2200), (300, 900), (600, 1800), (500, 1500))  # (F1, F2) Hz


def voices(rate: int, seconds: float = 3.0, pitches=(120.0, 210.0)) -> np.ndarray:
    """Speech-like sources PESQ and STOI can score, (sources, samples): a gliding pitch whose harmonics two formants
    shape, a new vowel each syllable."""
    t = np.arange(round(seconds * rate)) / rate
    sources = []
    for i, pitch in enumerate(pitches):
        syllables = 3.5 + i
        f0 = pitch * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t + i))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        f1, f2 = np.array(VOWELS).T[:, np.floor(syllables * t + i / 3).astype(int) % len(VOWELS)]
        tone = sum(
            (np.exp(-(((k * f0 - f1) / 150) ** 2)) + 0.5 * np.exp(-(((k * f0 - f2) / 200) ** 2))) * np.sin(k * phase)
            for k in range(1, int(0.45 * rate / pitch))
        )
        sources.append(0.3 * tone * np.sin(np.pi * syllables * t + i / 3) ** 2)
    return np.stack(sources).astype(np.float32)


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
    return refs, score_mixture(refs.sum(axis=0), refs, estimates, 8000)


def test_score_mixture_near_perfect_and_finds_swap(perturbed_swapped):
    refs, rows = perturbed_swapped
    assert [r["source"] for r in rows] == [0, 1]
    assert [r["estimate"] for r in rows] == [1, 0]
    for r in rows:
        assert r["sdr"] > 30 and r["si_snr"] > 30 and r["nsdr"] > 25 and r["si_snri"] > 25
        assert r["samples"] == 4000
        np.testing.assert_allclose(r["nsdr"], r["sdr"] - r["sdr_mixture"])


def test_score_mixture_with_mixture_as_estimates_gives_zero_improvement():
    refs = voices(8000)
    mixture = refs.sum(axis=0)
    rows = score_mixture(mixture, refs, np.stack([mixture, mixture]), 8000)
    for r in rows:
        assert abs(r["nsdr"]) < 1e-6
        assert abs(r["si_snri"]) < 1e-6
        assert all(np.isfinite(r[column]) for column in PERCEPTUAL_COLUMNS), "scored, not NaN"
        for measure in ("pesq", "stoi", "estoi"):
            assert r[measure] == pytest.approx(r[f"{measure}_mixture"]) and abs(r[f"{measure}_i"]) < 1e-9


def test_score_mixture_trims_to_shortest(rng):
    refs = rng.standard_normal((2, 3000))
    rows = score_mixture(refs.sum(axis=0)[:2900], refs, refs[:, :2950] + 1e-3, 8000)
    assert all(r["samples"] == 2900 for r in rows)


def test_mixture_sdr_against_each_reference_alone_equals_bss_evals_against_all(rng):
    """The baseline is scored reference by reference (far cheaper): bss_eval_sources' SDR depends only on the
    projection onto the reference scored, so the numbers are those of one call with every reference."""
    refs = voices(8000, 1.0) + 0.01 * rng.standard_normal((2, 8000)).astype(np.float32)
    mixture = refs.sum(axis=0)
    together = metrics.bss_eval(refs, np.stack([mixture, mixture]), permute=False)["sdr"]
    np.testing.assert_allclose(mixture_sdr(mixture, refs), together, atol=1e-9)


@pytest.mark.parametrize(("rate", "mode", "top"), [(8000, "nb", 4.55), (16000, "wb", 4.64)])
def test_perceptual_scores_of_a_source_against_itself_are_at_their_maxima(rate, mode, top):
    refs = voices(rate)
    assert pesq_setting(rate) == (rate, mode)
    for row in perceptual_scores(refs.sum(axis=0), refs, refs, rate):
        assert row["pesq"] == pytest.approx(top, abs=0.01)
        assert row["stoi"] == pytest.approx(1.0, abs=1e-6) and row["estoi"] == pytest.approx(1.0, abs=1e-6)
        assert row["pesq_i"] > 1 and row["stoi_i"] > 0 and row["estoi_i"] > 0


def test_perceptual_scores_fall_as_noise_grows(rng):
    refs = voices(8000)
    noise = rng.standard_normal(refs.shape).astype(np.float32)
    rows = [perceptual_scores(refs.sum(axis=0), refs, refs + level * noise, 8000) for level in (0.001, 0.01, 0.1)]
    for source in range(len(refs)):
        for measure in ("pesq", "stoi", "estoi"):
            values = [r[source][measure] for r in rows]
            assert values[0] > values[1] > values[2], f"{measure} of s{source + 1}: {values}"


def test_stoi_resampled_once_gives_pystois_own_values(rng):
    """STOI and ESTOI share one resampling to 10 kHz, done with pystoi's resampler: the values are pystoi's."""
    refs = voices(8000)
    estimates = refs + 0.05 * rng.standard_normal(refs.shape).astype(np.float32)
    rows = perceptual_scores(refs.sum(axis=0), refs, estimates, 8000)
    for row, ref, estimate in zip(rows, refs, estimates):
        assert row["stoi"] == pytest.approx(stoi(ref, estimate, 8000), abs=1e-12)
        assert row["estoi"] == pytest.approx(stoi(ref, estimate, 8000, extended=True), abs=1e-9)
        assert row["stoi_mixture"] == pytest.approx(stoi(ref, refs.sum(axis=0), 8000), abs=1e-12)


@pytest.mark.parametrize(
    ("rate", "pesq_rate", "mode"), [(44100, 16000, "wb"), (22050, 16000, "wb"), (11025, 8000, "nb"), (6000, 8000, "nb")]
)
def test_other_rates_are_resampled_to_a_pesq_rate(monkeypatch, rng, rate, pesq_rate, mode):
    assert pesq_setting(rate) == (pesq_rate, mode)
    calls = []
    real = metrics.pesq

    def recorded(fs, reference, degraded, band):
        calls.append((fs, band, len(reference), len(degraded)))
        return real(fs, reference, degraded, band)

    monkeypatch.setattr(metrics, "pesq", recorded)
    refs = voices(rate, 1.0)
    estimates = refs + 0.05 * rng.standard_normal(refs.shape).astype(np.float32)
    rows = perceptual_scores(refs.sum(axis=0), refs, estimates, rate)
    length = len(resample(refs[0], rate, pesq_rate))
    assert calls == [(pesq_rate, mode, length, length)] * 4, "estimate and mixture against each reference"
    expected = real(pesq_rate, resample(refs[0], rate, pesq_rate), resample(estimates[0], rate, pesq_rate), mode)
    assert rows[0]["pesq"] == pytest.approx(expected)


def test_too_short_sources_are_nan_not_a_crash(rng):
    """0.2 s: PESQ needs a quarter second, STOI 30 frames of speech; SDR and SI-SNR are still scored."""
    refs = voices(8000, 0.2)
    rows = score_mixture(refs.sum(axis=0), refs, refs[::-1] + 0.01 * rng.standard_normal(refs.shape), 8000)
    for row in rows:
        assert all(np.isnan(row[column]) for column in PERCEPTUAL_COLUMNS)
        assert np.isfinite(row["sdr"]) and np.isfinite(row["si_snr"])
    summary = aggregate(pd.DataFrame(rows))
    assert summary["pesq_unscored"] == 2 and summary["stoi_unscored"] == 2
    assert summary["pesq"] is None and summary["stoi_i"] is None, "no NaN in the metrics JSON"


def test_an_all_zero_estimate_gets_nan_pesq_but_the_mixture_is_still_scored():
    refs = voices(8000)
    row = perceptual_scores(refs.sum(axis=0), refs, np.stack([refs[0], np.zeros_like(refs[1])]), 8000)[1]
    assert np.isnan(row["pesq"]) and np.isnan(row["pesq_i"]) and row["pesq_mixture"] > 1


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
            **{column: [2.0, 1.0] for column in PERCEPTUAL_COLUMNS},
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
    assert agg["pesq"] == pytest.approx(1.5) and agg["pesq_unscored"] == 0


def test_aggregate_leaves_unscored_sources_out_of_the_perceptual_means_and_counts_them():
    table = pd.DataFrame({
        "nsdr": [1.0] * 3, "sir": [1.0] * 3, "sar": [1.0] * 3, "sdr": [1.0] * 3, "si_snr": [1.0] * 3, "si_snri": [1.0] * 3,
        "samples": [8000] * 3,
        "pesq": [3.0, np.nan, 2.0], "pesq_mixture": [2.0, 1.5, np.nan], "pesq_i": [1.0, np.nan, np.nan],
        **{f"{m}{suffix}": [0.9, 0.8, 0.7] for m in ("stoi", "estoi") for suffix in ("", "_mixture")},
        "stoi_i": [0.0] * 3, "estoi_i": [0.0] * 3,
    })
    agg = aggregate(table)
    assert (agg["pesq"], agg["pesq_mixture"], agg["pesq_i"]) == (3.0, 2.0, 1.0), "over the same scored sources"
    assert agg["pesq_unscored"] == 2 and agg["stoi_unscored"] == 0
    assert agg["stoi"] == pytest.approx(0.8) and agg["estoi_i"] == 0.0


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
    code = "import sys, cocktail.scoring.scores, cocktail.scoring.oracle; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False" and result.stderr == ""
