import pytest

from cocktail.errors import CocktailError
from cocktail.results import END, START, markdown_table, write_between_markers


def row(label, gnsdr, accuracy=None):
    values = {"gnsdr": gnsdr, "gsir": 1.0, "gsar": 2.0, "sdri": gnsdr, "si_snri": gnsdr - 0.5}
    return {"label": label, "values": values, "mask_accuracy": accuracy, "parameters": 2_000_000, "train_seconds": 120.0}


def test_table_sorts_by_gnsdr_and_appends_oracles():
    oracle = {"ibm": {"gnsdr": 13.0, "gsir": 20.0, "gsar": 14.0, "sdri": 13.0, "si_snri": 12.5}}
    lines = markdown_table([row("blstm (fixed)", 0.1, 0.5), row("dpcl", 7.2, 0.81)], oracle).splitlines()
    assert lines[2].startswith("| dpcl | 7.20 |") and "81.0%" in lines[2] and "2.00 M" in lines[2] and "2.0 min" in lines[2]
    assert lines[3].startswith("| blstm (fixed) | 0.10 |")
    assert lines[4].startswith("| oracle IBM | 13.00 |")
    assert all(line.count("|") == lines[0].count("|") for line in lines)


def test_readme_table_is_replaced_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold table\n{END}\noutro\n")
    write_between_markers(readme, "| new |")
    assert readme.read_text() == f"intro\n{START}\n| new |\n{END}\noutro\n"


def test_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    with pytest.raises(CocktailError, match="markers"):
        write_between_markers(readme, "| new |")
