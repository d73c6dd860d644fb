"""The evaluate stage's pieces without the stage: the model set up as the evaluate params ask (and refused where it
cannot honour them), the test conditions scored, estimates fitted to the source count, and the examples written."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from cocktail.data.mixture_set import MixtureSet
from cocktail.errors import CocktailError
from cocktail.inference.separation import Separator
from cocktail.models.base import Separation
from cocktail.params import Params
from cocktail.scoring.evaluation import estimate_order, evaluation_separator, fit_source_count, scored_conditions, write_examples
from conftest import SECTIONS, SPECTRAL

DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())
EVALUATE = {"n_sources": None, "clustering": "kmeans", "meanshift_quantile": 0.2, "meanshift_min_share": 0.05, "examples": 1}


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """A mask model (ff) and a clustering model (dpcl), tiny and untrained, saved as the train stage saves them."""
    root = tmp_path_factory.mktemp("models")
    for name in ("ff", "dpcl"):
        Separator.create(name, SECTIONS[name], SPECTRAL, 2).save(root / name)
    return root


def test_the_model_is_set_up_as_evaluate_asks(model_dirs):
    separator, n_sources = evaluation_separator(model_dirs / "dpcl", "dpcl", 8000, {**EVALUATE, "clustering": "meanshift"})
    assert n_sources == 2 and separator.clustering == "meanshift" and separator.meanshift_quantile == 0.2
    assert evaluation_separator(model_dirs / "dpcl", "dpcl", 8000, {**EVALUATE, "n_sources": 3})[1] == 3


@pytest.mark.parametrize(
    ("name", "model", "rate", "evaluate", "named"),
    [
        ("ff", "dpcl", 8000, {}, "holds a 'ff' model but params key 'model' is 'dpcl'"),
        ("ff", "ff", 16000, {}, "trained at 8000 Hz but params key 'corpus.sample_rate' is 16000"),
        ("ff", "ff", 8000, {"n_sources": 3}, "params key 'evaluate.n_sources' is 3"),
        ("ff", "ff", 8000, {"clustering": "meanshift"}, "params key 'evaluate.clustering' is 'meanshift'"),
        ("dpcl", "dpcl", 8000, {"clustering": "spectral"}, "params key 'evaluate.clustering' is 'spectral'"),
    ],
)
def test_settings_a_model_cannot_honour_are_refused_naming_the_key(model_dirs, name, model, rate, evaluate, named):
    with pytest.raises(CocktailError, match=named):
        evaluation_separator(model_dirs / name, model, rate, {**EVALUATE, **evaluate})


def test_evaluation_can_score_a_model_on_the_other_condition():
    def conditions(mix: dict, evaluate: dict):
        params = Params({"mix": {**DEFAULTS["mix"], **mix}, "evaluate": {**DEFAULTS["evaluate"], **evaluate}})
        return scored_conditions(params.section("mix"), params.section("evaluate"))

    scored = conditions({"noise": True}, {"noise": False})
    assert scored["noise"] is False and scored["reverb"] is False
    assert scored["n_sources"] == DEFAULTS["mix"]["n_sources"] and scored.name == "mix", "the rest of the mix section as it is"
    assert conditions({}, {"reverb": True})["reverb"]
    with pytest.raises(CocktailError, match=r"evaluate\.noise"):
        conditions({}, {"noise": "clean"})


def test_extra_estimates_drop_the_quietest_and_a_missing_one_is_the_mixture():
    mixture = np.ones(4, np.float32)
    loud, quiet, middle = np.full(4, 3.0), np.full(4, 0.1), np.full(4, 1.0)
    masks = np.stack([np.full((2, 2), v) for v in (0.6, 0.1, 0.3)])
    kept = fit_source_count(Separation(np.stack([loud, quiet, middle]), masks), mixture, 2)
    np.testing.assert_array_equal(kept.sources, np.stack([loud, middle]), err_msg="the loudest two, in their order")
    np.testing.assert_array_equal(kept.masks[:, 0, 0], [0.6, 0.3])
    filled = fit_source_count(Separation(loud[None], masks[:1]), mixture, 3)
    np.testing.assert_array_equal(filled.sources, np.stack([loud, mixture, mixture]))
    np.testing.assert_array_equal(filled.masks[1:], 1.0)


def test_examples_are_written_in_reference_order(tmp_path):
    rng = np.random.default_rng(0)
    sources = [rng.uniform(-0.5, 0.5, (2, 800)).astype(np.float32) for _ in range(2)]
    mixtures = MixtureSet([s.sum(axis=0) for s in sources], sources, pd.DataFrame({"mix_id": ["a", "b"]}))
    estimates = [s[::-1].copy() for s in sources]  # estimate 1 is reference 0
    per_source = pd.DataFrame({"mix_id": ["a", "a", "b", "b"], "source": [1, 0, 0, 1], "estimate": [0, 1, 1, 0]})
    np.testing.assert_array_equal(estimate_order(per_source, "a"), [1, 0])
    write_examples(tmp_path / "examples", mixtures, estimates, per_source, 1, 8000)
    assert sorted(p.name for p in (tmp_path / "examples").iterdir()) == [
        "a_mixture.wav", "a_s1_estimate.wav", "a_s1_reference.wav", "a_s2_estimate.wav", "a_s2_reference.wav",
    ]
    for r in (1, 2):
        reference = sf.read(tmp_path / "examples" / f"a_s{r}_reference.wav")[0]
        estimate = sf.read(tmp_path / "examples" / f"a_s{r}_estimate.wav")[0]
        np.testing.assert_allclose(estimate, reference, atol=1e-4)
