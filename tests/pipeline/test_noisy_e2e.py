"""One experiment for the mask kind, three speakers and the noisy-reverberant task at once: `-S mix.noise=true
-S mix.reverb=true -S mix.n_sources=3 -S model=blstm` reruns from the mix stage on the embedded corpus, the mixtures
record their rooms and noise, the mask network (PIT over three masks) is trained and scored, and evaluate then
scores the same model on the clean test set."""

import json

import pandas as pd
import pytest
from conftest import TINY, assert_trained_and_scored, exp_run, outcome, restore

NOISY_REVERBERANT = ("mix.noise=true", "mix.reverb=true", "mix.rooms=2", "mix.rt60=[0.2,0.4]", "mix.n_sources=3", "model=blstm")


@pytest.fixture(scope="module")
def noisy(project):
    """The experiment, then the same model scored on the clean test set (evaluate.noise / evaluate.reverb false)."""
    try:
        seen = outcome(project, exp_run(project, *NOISY_REVERBERANT))
        seen.table = pd.read_csv(project / "data/mixtures/test/mixtures.csv")
        seen.oracle = json.loads((project / "metrics/oracle.json").read_text())
        clean = outcome(project, exp_run(project, *NOISY_REVERBERANT, "evaluate.noise=false", "evaluate.reverb=false"))
    finally:
        restore(project)
    return seen, clean


def test_the_mask_kind_trains_and_is_scored_through_the_pipeline(noisy):
    assert_trained_and_scored(noisy[0], "mask", "blstm")


def test_three_sources_end_to_end(noisy):
    """mix.n_sources reruns every stage downstream of the prepared corpus; the mask network outputs three masks."""
    seen, _ = noisy
    assert seen.ran == {"mix", "features", "train", "evaluate", "oracle", "report"}, seen.stdout
    assert seen.eval["n_sources"] == 3 and seen.eval["n_sources_scored"] == 3 * TINY["mix.test_mixtures"]
    assert len([f for f in seen.examples if f.endswith("_estimate.wav")]) == 3
    assert len([f for f in seen.report if f.endswith("_estimate.wav")]) == 3 * TINY["report.examples"]


def test_mixtures_record_their_rooms_and_noise(noisy):
    seen, _ = noisy
    assert seen.table["rt60"].between(0.2, 0.4).all() and seen.table["noise_snr_db"].between(-6, 3).all()
    assert seen.table["noise"].str.match(r"(babble|coloured|modulated): ").all()
    assert 1.0 <= seen.eval["pesq_mixture"] <= 4.6 and 0.0 < seen.eval["stoi_mixture"] < 1.0
    assert seen.oracle["irm"]["si_snri"] > 0  # the ideal masks leave the noise and the reverberation out


def test_the_same_model_is_scored_on_the_clean_test_set(noisy):
    seen, clean = noisy
    assert clean.ran == {"evaluate", "report"}, clean.stdout
    assert clean.eval["pesq_mixture"] > seen.eval["pesq_mixture"] and clean.eval["stoi_mixture"] > seen.eval["stoi_mixture"]
    assert clean.train == seen.train, "no retraining"
