"""Shared numbers are defined once: a second definition drifts the day someone edits the first."""

import re
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "cocktail"


def test_each_shared_constant_is_defined_once():
    definitions = {}
    for path in SRC.rglob("*.py"):
        for match in re.finditer(r"^(EPS|PEAK) = ", path.read_text(), re.MULTILINE):
            definitions.setdefault(match.group(1), []).append(path.relative_to(SRC).as_posix())
    assert definitions == {"EPS": ["constants.py"], "PEAK": ["constants.py"]}


def test_no_module_types_the_floor_again():
    typed = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if p.name != "constants.py" and "1e-8" in p.read_text()]
    assert not typed, f"use cocktail.constants.EPS in {typed}"
