"""The clustering kind through the pipeline: dpcl trained on mixtures drawn afresh every epoch (dynamic mixing),
scored with mean-shift, which finds the number of sources itself, on test mixtures of three speakers."""

import json

import pytest
from conftest import TINY, assert_trained_and_scored, exp_run, outcome, restore, run


@pytest.fixture(scope="module")
def clustering(project):
    """One training for the clustering kind, dynamic mixing, mean-shift and a source count the model was not trained
    on (it learns from two-speaker mixtures)."""
    try:
        seen = outcome(
            project,
            exp_run(project, "model=dpcl", "train.dynamic_mixing=true", "evaluate.clustering=meanshift", "evaluate.n_sources=3"),
        )
        seen.sdr_plot = json.loads(run(["dvc", "plots", "diff", "HEAD", "--json"], project).stdout)["data"]["SDR per test source (dB)"]
    finally:
        restore(project)
    return seen


def test_the_clustering_kind_trains_and_is_scored_through_the_pipeline(clustering):
    assert_trained_and_scored(clustering, "clustering", "dpcl")


def test_exp_run_other_model_runs_only_train_and_evaluate(clustering):
    """Another model than the committed one, mixed afresh (an option of train), scored on three sources (an option of
    evaluate): the data stages and the oracle stay cached."""
    assert clustering.ran == {"train", "evaluate", "report"}, clustering.stdout
    assert "mixed afresh every epoch" in clustering.stdout and "from the features stage" not in clustering.stdout


def test_meanshift_evaluation_reports_source_counts(clustering):
    assert clustering.eval["clustering"] == "meanshift"
    assert 0.0 <= clustering.eval["source_count_accuracy"] <= 1.0


def test_dpcl_trained_on_two_evaluated_on_three(clustering):
    examples = TINY["report.examples"]
    assert len([f for f in clustering.report if f.endswith("_embeddings.png")]) == examples
    assert len([f for f in clustering.report if f.endswith("_estimate.wav")]) == 3 * examples
    assert {row["rev"] for row in clustering.sdr_plot[0]["content"]["data"]["values"]} == {"HEAD", "workspace"}
    assert clustering.eval["n_sources"] == 3 and clustering.eval["n_sources_scored"] == 3 * TINY["mix.test_mixtures"]
    assert clustering.train["model"] == "dpcl"
