"""The comparison table: every DVC experiment's evaluation beside the oracle masks, as Markdown.

`python -m cocktail.results` prints it; `--readme README.md` writes it between the README's
results markers, so the table in the README is generated, never typed."""

import argparse
import json
import re
from pathlib import Path

import dvc.api

from cocktail.errors import CocktailError

START, END = "<!-- results:start -->", "<!-- results:end -->"
COLUMNS = [("GNSDR", "gnsdr"), ("GSIR", "gsir"), ("GSAR", "gsar"), ("SDRi", "sdri"), ("SI-SNRi", "si_snri")]


def metric(row: dict, file: str, key: str):
    """exp_show names a column by its key alone unless two files share it."""
    for name in (f"{file}:{key}", key):
        if row.get(name) is not None:
            return row[name]
    return None


def number(value):
    """exp_show shows a metric a row lacks as a placeholder string."""
    return value if isinstance(value, (int, float)) else None


def experiment_rows(commits: int) -> list[dict]:
    """One row per system, from the workspace, the last `commits` commits and their experiments, newest first."""
    rows, seen = [], set()
    for row in dvc.api.exp_show(num=commits):
        if number(metric(row, "metrics/eval.json", "gnsdr")) is None:
            continue  # a commit or a failed experiment without evaluation
        model = metric(row, "metrics/eval.json", "model")
        label = f"blstm ({metric(row, 'params.yaml', 'blstm.permutation')})" if model == "blstm" else model
        if label in seen:
            continue
        seen.add(label)
        rows.append(
            {
                "label": label,
                "values": {key: number(metric(row, "metrics/eval.json", key)) for _, key in COLUMNS},
                "mask_accuracy": number(metric(row, "metrics/eval.json", "mask_accuracy")),
                "parameters": number(metric(row, "metrics/train.json", "parameters")),
                "train_seconds": number(metric(row, "metrics/train.json", "train_seconds")),
            }
        )
    return rows


def markdown_table(rows: list[dict], oracle: dict) -> str:
    header = "| system | " + " | ".join(c for c, _ in COLUMNS) + " | mask accuracy | parameters | training time |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 4)]
    for row in sorted(rows, key=lambda r: -(r["values"]["gnsdr"] or 0)):
        values = " | ".join(f"{row['values'][k]:.2f}" for _, k in COLUMNS)
        minutes = f"{row['train_seconds'] / 60:.1f} min" if row["train_seconds"] else ""
        params = f"{row['parameters'] / 1e6:.2f} M" if row["parameters"] else ""
        accuracy = f"{row['mask_accuracy']:.1%}" if row["mask_accuracy"] is not None else ""
        lines.append(f"| {row['label']} | {values} | {accuracy} | {params} | {minutes} |")
    for mask, values in oracle.items():
        cells = " | ".join(f"{values[k]:.2f}" for _, k in COLUMNS)
        lines.append(f"| oracle {mask.upper()} | {cells} | | | |")
    return "\n".join(lines)


def write_between_markers(readme: Path, table: str) -> None:
    text = readme.read_text()
    if START not in text or END not in text:
        raise CocktailError(f"{readme} has no {START} ... {END} markers to write the table between.")
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{table}\n{END}", text, flags=re.S)
    readme.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, help="write the table into this file between the results markers")
    parser.add_argument("--commits", type=int, default=10, help="look this many commits back for experiments (default 10)")
    args = parser.parse_args()
    oracle_path = Path("metrics/oracle.json")
    oracle = json.loads(oracle_path.read_text()) if oracle_path.is_file() else {}
    table = markdown_table(experiment_rows(args.commits), oracle)
    if args.readme:
        write_between_markers(args.readme, table)
    print(table)


if __name__ == "__main__":
    main()
