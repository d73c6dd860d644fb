import pytest

from cocktail.errors import CocktailError
from cocktail.results import END, START, markdown_table, results_markdown, system_label, write_between_markers


def row(label, gnsdr, accuracy=None, n_sources=2):
    values = {"gnsdr": gnsdr, "gsir": 1.0, "gsar": 2.0, "sdri": gnsdr, "si_snri": gnsdr - 0.5}
    return {
        "label": label, "n_sources": n_sources, "values": values, "mask_accuracy": accuracy,
        "parameters": 2_000_000, "train_seconds": 120.0, "real_time_factor": 0.0123,
    }


def test_table_sorts_by_gnsdr_and_appends_oracles():
    oracle = {"ibm": {"gnsdr": 13.0, "gsir": 20.0, "gsar": 14.0, "sdri": 13.0, "si_snri": 12.5}}
    lines = markdown_table([row("blstm (fixed)", 0.1, 0.5), row("dpcl", 7.2, 0.81)], oracle).splitlines()
    assert lines[2].startswith("| dpcl | 7.20 |") and "81.0%" in lines[2] and "2.00 M" in lines[2] and "2.0 min" in lines[2]
    assert lines[2].endswith("| 0.012 |")
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


def test_labels_name_what_sets_a_row_apart():
    base = {"params.yaml:mix.n_sources": 2, "metrics/eval.json:n_sources": 2, "metrics/eval.json:clustering": "kmeans"}
    assert system_label({**base, "ff.permutation": "fixed"}, "ff") == "ff (fixed)"
    assert system_label(base, "dpcl") == "dpcl"
    assert system_label({**base, "metrics/eval.json:clustering": "meanshift"}, "dpcl") == "dpcl (mean-shift)"
    assert system_label({**base, "metrics/eval.json:n_sources": 3}, "dpcl") == "dpcl (trained on 2 speakers)"


def test_one_table_per_speaker_count_with_oracles_beside_their_own():
    oracle = {"ibm": {"gnsdr": 13.0, "gsir": 20.0, "gsar": 14.0, "sdri": 13.0, "si_snri": 12.5}}
    text = results_markdown([row("dpcl", 7.0), row("dpcl (trained on 2 speakers)", 3.0, n_sources=3)], oracle, 2)
    two, three = text.split("**3 speakers per test mixture**")
    assert "**2 speakers per test mixture**" in two and "oracle IBM" in two and "| dpcl | 7.00" in two
    assert "oracle" not in three and "| dpcl (trained on 2 speakers) | 3.00" in three
