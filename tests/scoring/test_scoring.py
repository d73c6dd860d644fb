"""Scoring a separated set: the known values (a perfect estimate, the mixture itself) on a few synthetic mixtures,
without the pipeline around them."""

import os

import numpy as np
import pandas as pd
import pytest

from cocktail.data.mixture_set import MixtureSet
from cocktail.scoring import scores
from cocktail.scoring.scores import score_all, scoring_workers, summarise

RATE = 8000


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
    perfect = summarise(score_all(mixtures, [s[::-1].copy() for s in mixtures.sources], RATE, "perfect"))
    assert perfect["gnsdr"] > 40 and perfect["si_snri"] > 40, "order is found by permutation, not given"
    assert perfect["pesq"] > 4.4 and perfect["stoi"] > 0.99 and perfect["estoi"] > 0.99
    assert perfect["pesq_unscored"] == perfect["stoi_unscored"] == 0
    unchanged = score_all(mixtures, [np.stack([m, m]) for m in mixtures.mixtures], RATE, "mixture")
    for column in ("nsdr", "si_snri", "pesq_i", "stoi_i", "estoi_i"):
        np.testing.assert_allclose(unchanged[column], 0.0, atol=1e-6, err_msg=column)


def test_scores_keep_mixture_order_and_one_row_per_source(mixtures):
    per_source = score_all(mixtures, [s + 0.05 for s in mixtures.sources], RATE, "noisy")
    assert list(per_source["mix_id"]) == ["m0", "m0", "m1", "m1", "m2", "m2"]
    assert list(per_source["source"]) == [0, 1] * 3
    assert set(summarise(per_source)) >= {
        "gnsdr", "gsir", "gsar", "sdri", "si_snri", "pesq", "pesq_mixture", "pesq_i", "stoi", "stoi_i", "estoi", "estoi_i",
        "pesq_unscored", "stoi_unscored",
    }


def test_worker_processes_score_as_this_one_does_in_the_same_order(mixtures, monkeypatch):
    """A few mixtures are scored in this process; more are spread over the cores, with the same rows."""
    estimates = [s + 0.05 for s in mixtures.sources]
    here = score_all(mixtures, estimates, RATE, "here")
    monkeypatch.setattr(scores, "MIXTURES_PER_WORKER", 1)
    assert scoring_workers(len(mixtures)) == min(3, os.cpu_count())
    pd.testing.assert_frame_equal(score_all(mixtures, estimates, RATE, "spread"), here)


def test_scoring_spreads_over_the_cores_only_what_pays_for_the_workers_start(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert [scoring_workers(n) for n in (0, 3, scores.MIXTURES_PER_WORKER, 3 * scores.MIXTURES_PER_WORKER, 1000)] == [1, 1, 1, 3, 4]


def test_a_source_too_short_for_pesq_and_stoi_is_counted_and_named_not_a_crash(mixtures, capsys):
    """One mixture of 0.2 s among whole ones: its sources get NaN, the summary counts them, the log names it."""
    short = MixtureSet(
        [*mixtures.mixtures[:2], mixtures.mixtures[2][:1600]], [*mixtures.sources[:2], mixtures.sources[2][:, :1600]],
        pd.DataFrame({"mix_id": ["m0", "m1", "short"]}),
    )
    per_source = score_all(short, [s + 0.01 for s in short.sources], RATE, "short")
    summary = summarise(per_source)
    assert summary["pesq_unscored"] == 2 and summary["stoi_unscored"] == 2 and summary["n_sources_scored"] == 6
    assert np.isfinite(summary["pesq"]) and np.isfinite(summary["stoi_i"]), "the whole mixtures are still averaged"
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 2 and all("s1, s2 of short (0.20 s" in line for line in notes)
    assert "PESQ" in notes[0] and "pesq_unscored" in notes[0] and "STOI" in notes[1]
