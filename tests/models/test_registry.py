"""Every registered architecture reaches every place a user meets model names, with no list of names to keep:
adding a module to cocktail/models must be enough, and forgetting its params section must fail here."""

import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from cocktail.cli import main
from cocktail.models import ARCHITECTURES, architecture_names, architecture_section, get_architecture
from cocktail.params import Params

NAMES = sorted(ARCHITECTURES)


def test_names_are_found_without_tensorflow():
    code = "import sys; from cocktail.models import architecture_names; print(architecture_names()); print('tensorflow' in sys.modules)"
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == [str(NAMES), "False"]
    assert architecture_names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_params_yaml_has_a_complete_section(name):
    section = architecture_section(Params.load(ROOT / "params.yaml"), name)
    assert set(ARCHITECTURES[name].params) <= set(section)


def test_params_yaml_lists_every_model_beside_the_model_key():
    line = next(line for line in (ROOT / "params.yaml").read_text().splitlines() if line.startswith("model:"))
    listed = re.findall(r"\w+", line.split("#", 1)[1])
    assert sorted(listed) == NAMES
    assert yaml.safe_load(line)["model"] in NAMES


def test_separate_help_names_every_model(capsys):
    with pytest.raises(SystemExit):
        main(["separate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in NAMES:
        assert re.search(rf"\b{name}\b", text), name


@pytest.mark.parametrize("name", NAMES)
def test_architecture_is_named_as_its_module(name):
    assert ARCHITECTURES[name].name == name
    assert get_architecture(name) is ARCHITECTURES[name]
