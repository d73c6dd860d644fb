from pathlib import Path

import pytest

from cocktail.errors import CocktailError
from cocktail.scoring.results import COLUMNS, END, START, markdown_table, results_markdown, system_label, write_between_markers


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


def test_table_is_written_literally_not_as_a_replacement_pattern(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold\n{END}\noutro\n")
    table = r"| a \1 b \g<0> c \n d |"
    write_between_markers(readme, table)
    assert readme.read_text() == f"intro\n{START}\n{table}\n{END}\noutro\n"


@pytest.mark.parametrize(
    "text",
    ["no markers here\n", f"{START}\ntable, end marker lost\n", f"{END}\n{START}\n", f"{START}\n{END}\n{START}\n{END}\n"],
    ids=["none", "no end", "reversed", "twice"],
)
def test_readme_without_one_marked_section_is_refused_and_kept(tmp_path, text):
    readme = tmp_path / "README.md"
    readme.write_text(text)
    with pytest.raises(CocktailError, match="markers"):
        write_between_markers(readme, "| new |")
    assert readme.read_text() == text


def test_readme_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    original = f"intro\n{START}\nold\n{END}\noutro\n"
    readme.write_text(original)

    def failing_write(self, text):
        Path.write_bytes(self, text[: len(text) // 2].encode())
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", failing_write)
    with pytest.raises(OSError):
        write_between_markers(readme, "| a much longer new table than the old one |")
    monkeypatch.undo()
    assert readme.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


def test_the_repository_readme_has_one_intact_results_section():
    text = (Path(__file__).parents[2] / "README.md").read_text()
    assert text.count(START) == 1 and text.count(END) == 1
    section = text.split(START)[1].split(END)[0]
    assert all(line.startswith("|") for line in section.splitlines() if line and not line.startswith("**"))


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


def test_perceptual_columns_sit_beside_the_dB_ones_with_the_unprocessed_mixture_below_the_oracles():
    """A run scored before PESQ and STOI existed shows blank cells there, not a crash."""
    oracle = {
        "ibm": {"gnsdr": 13.0, "pesq": 3.41, "stoi": 0.953, "estoi": 0.871, "pesq_mixture": 1.62, "stoi_mixture": 0.712,
                "estoi_mixture": 0.503},
        "irm": {"gnsdr": 12.0, "pesq": 3.3, "stoi": 0.94, "estoi": 0.85, "pesq_mixture": 1.62, "stoi_mixture": 0.712,
                "estoi_mixture": 0.503},
    }
    scored = row("convtasnet", 8.0)
    scored["values"] |= {"pesq": 2.95, "stoi": 0.912, "estoi": 0.801}
    lines = markdown_table([scored, row("ff (pit)", 4.0)], oracle).splitlines()
    header = [cell.strip() for cell in lines[0].split("|")]
    assert header[1:10] == ["system", *(label for label, _ in COLUMNS)] and header[7:10] == ["PESQ", "STOI", "ESTOI"]
    assert lines[2].startswith("| convtasnet | 8.00 |") and "| 2.95 | 0.91 | 0.80 |" in lines[2]
    assert lines[3].startswith("| ff (pit) | 4.00 | 1.00 | 2.00 | 4.00 | 3.50 |  |  |  |"), "a run scored before them"
    assert lines[6].startswith("| unprocessed mixture |  |  |  |  |  | 1.62 | 0.71 | 0.50 |")
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "unprocessed mixture" not in markdown_table([scored], {"ibm": {"gnsdr": 13.0}}), "an oracle.json without them"
