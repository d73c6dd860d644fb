import copy
import re
from pathlib import Path

import pytest

from cocktail.errors import CocktailError
from cocktail.models import ARCHITECTURES, architecture_section, get_architecture
from cocktail.params import Params, Range, checked_choice


@pytest.fixture
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("mix:\n  ratio_db: 5\ndpcl:\n  hidden: 8\n  layers: 1\n")
    return path


def test_reads_dotted_keys(params_file):
    params = Params.load(params_file)
    assert params["mix.ratio_db"] == 5


def test_missing_key_names_key_and_file(params_file):
    params = Params.load(params_file)
    with pytest.raises(CocktailError) as err:
        params["mix.n_sources"]
    assert "'mix.n_sources'" in str(err.value) and str(params_file) in str(err.value)
    with pytest.raises(CocktailError, match="'nosection'"):
        params["nosection.key"]


def test_section_missing_subkey_names_section(params_file):
    section = Params.load(params_file).section("dpcl")
    assert section["hidden"] == 8
    with pytest.raises(CocktailError) as err:
        section["embedding_dim"]
    assert "'dpcl.embedding_dim'" in str(err.value) and str(params_file) in str(err.value)


def test_section_of_a_scalar_is_refused(params_file):
    with pytest.raises(CocktailError, match="mix.ratio_db"):
        Params.load(params_file).section("mix.ratio_db")


def test_missing_file(tmp_path):
    with pytest.raises(CocktailError, match="nothere.yaml"):
        Params.load(tmp_path / "nothere.yaml")


@pytest.mark.parametrize("text", ["mix: [1, 2\n", "a: b: c\n", "- just\n- a list\n"])
def test_invalid_yaml(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(CocktailError, match="params.yaml"):
        Params.load(path)


def test_unknown_architecture_lists_valid_names():
    with pytest.raises(CocktailError) as err:
        get_architecture("nope")
    message = str(err.value)
    assert "nope" in message
    for name in ARCHITECTURES:
        assert name in message


@pytest.mark.parametrize(
    ("choices", "value", "expected"),
    [
        (("kmeans", "meanshift"), "spectral", "params key 'k' is 'spectral': use kmeans or meanshift."),
        (("a", "b", "c"), None, "params key 'k' is null: use one of a, b, c."),
        ((True, False), 1, "params key 'k' is 1: use true or false."),
        ((True, False), "yes", "params key 'k' is 'yes': use true or false."),
        ((None, True, False), 0, "params key 'k' is 0: use one of null, true, false (why)."),
    ],
)
def test_a_word_outside_its_choices_is_refused_naming_key_and_choices(choices, value, expected):
    """True == 1 in Python: a choice of true / false must not take a number, nor a word stand for a boolean."""
    with pytest.raises(CocktailError) as err:
        checked_choice("k", value, choices, " (why)" if None in choices else "")
    assert str(err.value) == expected


def test_a_listed_choice_comes_back_as_it_is():
    assert checked_choice("k", "meanshift", ("kmeans", "meanshift")) == "meanshift"
    assert checked_choice("k", False, (True, False)) is False
    assert checked_choice("k", None, (None, True, False)) is None


def test_architecture_section_names_missing_key():
    section = {"hidden": 8, "layers": 1, "dropout": 0.0, "epochs": 1, "batch_size": 2, "learning_rate": 1e-3}
    params = Params({"mix": {"n_sources": 2}, "dpcl": section}, "my-params.yaml")
    with pytest.raises(CocktailError) as err:
        architecture_section(params, "dpcl")
    assert "'dpcl.embedding_dim'" in str(err.value) and "my-params.yaml" in str(err.value)
    complete = Params({"mix": {"n_sources": 2}, "dpcl": {**section, "embedding_dim": 4}})
    assert architecture_section(complete, "dpcl")["embedding_dim"] == 4


def test_architecture_section_names_missing_budget_key():
    params = Params({"mix": {"n_sources": 2}, "blstm": {"hidden": 8, "layers": 1, "dropout": 0.0, "permutation": "pit"}})
    with pytest.raises(CocktailError, match="'blstm.epochs'"):
        architecture_section(params, "blstm")


@pytest.mark.parametrize(
    ("allowed", "value"),
    [
        (Range(int, 2), 0),
        (Range(float, 0), -3),
        (Range(int, 1, 256), 300),
        (Range(int, 1, 256), 1.5),
        (Range(int, 0), True),
        (Range(int, 1), "sixty"),
        (Range(float, 0, low_open=True), 0),
        (Range(float, 0, 1, high_open=True), 1),
        (Range(int, 2, even=True), 7),
        (Range(int, 1), None),
    ],
)
def test_numbers_out_of_range_name_their_key(allowed, value):
    with pytest.raises(CocktailError, match="params key 'section.key' is"):
        allowed.check("section.key", value)


def test_numbers_in_range_come_back_as_their_kind():
    assert Range(float, 0).check("k", 5) == 5.0 and isinstance(Range(float, 0).check("k", 5), float)
    assert isinstance(Range(int, 0, 5).check("k", 5.0), int)
    assert Range(int, 2, optional=True).check("k", None) is None


def numeric_keys(node, prefix=""):
    """Every dotted key of params.yaml whose default is a number."""
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from numeric_keys(value, f"{dotted}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield dotted


DEFAULTS = Params.load(Path(__file__).parents[1] / "params.yaml")
# Keys where zero means something; every other numeric key must refuse it.
ZERO_MEANS_SOMETHING = {
    "seed", "corpus.valid_speakers", "corpus.test_speakers", "corpus.max_bad_fraction", "mix.ratio_db", "train.max_minutes",
    "evaluate.examples", "evaluate.meanshift_min_share",
    *(f"{name}.dropout" for name in ARCHITECTURES if "dropout" in ARCHITECTURES[name].params),
}


def read_checked(params: Params, key: str):
    """Read a key as the stages do: an architecture's section all at once, any other key where it is used."""
    section = key.split(".")[0]
    return architecture_section(params, section) if section in ARCHITECTURES else params[key]


def with_value(key: str, value) -> Params:
    data = copy.deepcopy(DEFAULTS._data)
    node = data
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return Params(data, "params.yaml")


@pytest.mark.parametrize("key", list(numeric_keys(DEFAULTS._data)))
def test_every_numeric_key_refuses_zero_negative_and_words(key):
    read_checked(DEFAULTS, key)
    for value in (-1, "ten") if key in ZERO_MEANS_SOMETHING else (0, -1, "ten"):
        with pytest.raises(CocktailError, match=f"params key '{re.escape(key)}' is {re.escape(repr(value))}"):
            read_checked(with_value(key, value), key)
    if key in ZERO_MEANS_SOMETHING:
        read_checked(with_value(key, 0), key)


def test_the_numbers_found_broken_by_hand_stop_with_their_key():
    """The cases that got through before: a zero batch, a zero sample rate, a negative learning rate, a share above 1."""
    for key, value in [("convtasnet.batch_size", 0), ("corpus.sample_rate", 0), ("convtasnet.learning_rate", -1),
                       ("corpus.max_bad_fraction", 2)]:
        with pytest.raises(CocktailError, match=f"'{re.escape(key)}'"):
            read_checked(with_value(key, value), key)
