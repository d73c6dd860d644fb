import pytest

from cocktail.errors import CocktailError
from cocktail.models import ARCHITECTURES, architecture_section, get_architecture
from cocktail.params import Params, number_in_range


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
    ("yaml_text", "key", "kind", "low", "high"),
    [
        ("n_sources: 0", "n_sources", int, 2, None),
        ("ratio_db: -3", "ratio_db", float, 0, None),
        ("hop_length: 300", "hop_length", int, 1, 256),
        ("hop_length: 1.5", "hop_length", int, 1, 256),
        ("hop_length: true", "hop_length", int, 0, None),
        ("hop_length: sixty", "hop_length", int, 1, None),
    ],
)
def test_numbers_out_of_range_name_their_key(tmp_path, yaml_text, key, kind, low, high):
    path = tmp_path / "params.yaml"
    path.write_text(f"section:\n  {yaml_text}\n")
    with pytest.raises(CocktailError, match=f"params key 'section.{key}' is"):
        number_in_range(Params.load(path).section("section"), key, kind, low, high)


def test_numbers_in_range_come_back_as_their_kind(params_file):
    section = Params.load(params_file).section("mix")
    assert number_in_range(section, "ratio_db", float, 0) == 5.0 and isinstance(number_in_range(section, "ratio_db", int, 0, 5), int)
