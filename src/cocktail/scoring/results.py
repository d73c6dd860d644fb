"""The comparison table: every DVC experiment's evaluation beside the oracle masks, as Markdown.

`python -m cocktail.scoring.results` prints it; `--readme README.md` writes it between the README's
results markers, so the table in the README is generated, never typed."""

import argparse
import json
import sys
from pathlib import Path

import dvc.api

from cocktail.atomic import atomic_path
from cocktail.errors import CocktailError
from cocktail.params import Params

START, END = "<!-- results:start -->", "<!-- results:end -->"
COLUMNS = [
    ("GNSDR", "gnsdr"), ("GSIR", "gsir"), ("GSAR", "gsar"), ("SDRi", "sdri"), ("SI-SNRi", "si_snri"),
    ("PESQ", "pesq"), ("STOI", "stoi"), ("ESTOI", "estoi"),
]
MIXTURE_LABEL = "unprocessed mixture"


def metric(row: dict, file: str, key: str):
    """exp_show names a column by its key alone unless two files share it."""
    for name in (f"{file}:{key}", key):
        if row.get(name) is not None:
            return row[name]
    return None


def number(value):
    """exp_show shows a metric a row lacks as a placeholder string."""
    return value if isinstance(value, (int, float)) else None


def formatted(value) -> str:
    """Blank where a row lacks the metric: a run scored before the metric existed."""
    return f"{value:.2f}" if isinstance(value, (int, float)) else ""


def mixture_values(summary: dict) -> dict:
    """The unprocessed mixture's means a summary holds (PESQ, STOI, ESTOI): the field reports them beside its systems,
    as where they start from."""
    return {key: summary.get(f"{key}_mixture") for _, key in COLUMNS}


def system_label(row: dict, model: str) -> str:
    """The model plus whatever sets the row apart: the mask nets' permutation, mean-shift, a trained-for count."""
    details = []
    permutation = metric(row, "params.yaml", f"{model}.permutation")
    if isinstance(permutation, str):
        details.append(permutation)
    if metric(row, "metrics/eval.json", "clustering") == "meanshift":
        details.append("mean-shift")
    trained, tested = number(metric(row, "params.yaml", "mix.n_sources")), number(metric(row, "metrics/eval.json", "n_sources"))
    if trained and tested and trained != tested:
        details.append(f"trained on {int(trained)} speakers")
    return f"{model} ({', '.join(details)})" if details else model


def experiment_rows(commits: int) -> list[dict]:
    """One row per system and test-source count, from the workspace, the last `commits` commits and their
    experiments, newest first."""
    rows, seen = [], set()
    for row in dvc.api.exp_show(num=commits):
        if number(metric(row, "metrics/eval.json", "gnsdr")) is None:
            continue  # a commit or a failed experiment without evaluation
        model = metric(row, "metrics/eval.json", "model")
        label = system_label(row, model)
        n_sources = int(number(metric(row, "metrics/eval.json", "n_sources")) or number(metric(row, "params.yaml", "mix.n_sources")) or 2)
        if (label, n_sources) in seen:
            continue
        seen.add((label, n_sources))
        rows.append(
            {
                "label": label,
                "n_sources": n_sources,
                "values": {key: number(metric(row, "metrics/eval.json", key)) for _, key in COLUMNS},
                "mask_accuracy": number(metric(row, "metrics/eval.json", "mask_accuracy")),
                "parameters": number(metric(row, "metrics/train.json", "parameters")),
                "train_seconds": number(metric(row, "metrics/train.json", "train_seconds")),
                "real_time_factor": number(metric(row, "metrics/train.json", "real_time_factor")),
            }
        )
    return rows


def markdown_table(rows: list[dict], oracle: dict) -> str:
    header = "| system | " + " | ".join(c for c, _ in COLUMNS) + " | mask accuracy | parameters | training time | real-time factor |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 5)]
    for row in sorted(rows, key=lambda r: -(r["values"]["gnsdr"] or 0)):
        values = " | ".join(formatted(row["values"].get(k)) for _, k in COLUMNS)
        minutes = f"{row['train_seconds'] / 60:.1f} min" if row["train_seconds"] else ""
        params = f"{row['parameters'] / 1e6:.2f} M" if row["parameters"] else ""
        accuracy = f"{row['mask_accuracy']:.1%}" if row["mask_accuracy"] is not None else ""
        rtf = f"{row['real_time_factor']:.3f}" if row.get("real_time_factor") else ""
        lines.append(f"| {row['label']} | {values} | {accuracy} | {params} | {minutes} | {rtf} |")
    for mask, values in oracle.items():
        cells = " | ".join(formatted(values.get(k)) for _, k in COLUMNS)
        lines.append(f"| oracle {mask.upper()} | {cells} | | | | |")
    mixture = mixture_values(next(iter(oracle.values()), {}))  # every mask scored the same test mixtures
    if any(value is not None for value in mixture.values()):
        lines.append(f"| {MIXTURE_LABEL} | " + " | ".join(formatted(mixture[k]) for _, k in COLUMNS) + " | | | | |")
    return "\n".join(lines)


def results_markdown(rows: list[dict], oracle: dict, oracle_sources: int) -> str:
    """One table per number of speakers in the test mixtures; the oracle rows beside the count they were scored on."""
    tables = []
    for n_sources in sorted({r["n_sources"] for r in rows} | {oracle_sources}):
        group = [r for r in rows if r["n_sources"] == n_sources]
        group_oracle = oracle if n_sources == oracle_sources else {}
        if group or group_oracle:
            tables.append(f"**{n_sources} speakers per test mixture**\n\n" + markdown_table(group, group_oracle))
    return "\n\n".join(tables)


def write_between_markers(readme: Path, table: str) -> None:
    """Only the text between the markers changes, taken literally, and the file is replaced whole or not at all."""
    text = readme.read_text()
    starts, ends = text.count(START), text.count(END)
    if starts != 1 or ends != 1 or text.index(START) > text.index(END):
        raise CocktailError(
            f"{readme} must hold one {START} line followed by one {END} line to write the table between; it holds "
            f"{starts} start and {ends} end markers. Restore them around the results section (git log -p {readme})."
        )
    head, rest = text.split(START)
    _, tail = rest.split(END)
    with atomic_path(readme) as tmp:
        tmp.write_text(f"{head}{START}\n{table}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, help="write the table into this file between the results markers")
    parser.add_argument("--commits", type=int, default=10, help="look this many commits back for experiments (default 10)")
    args = parser.parse_args()
    try:
        oracle_path = Path("metrics/oracle.json")
        oracle = json.loads(oracle_path.read_text()) if oracle_path.is_file() else {}
        oracle_sources = int(Params.load()["mix.n_sources"])
        rows = experiment_rows(args.commits)
        if not rows:
            raise CocktailError(
                f"no evaluated experiment in the workspace or the last {args.commits} commits: run `dvc repro` or "
                "`dvc exp run` first (experiments run elsewhere come with `dvc exp pull`)."
            )
        table = results_markdown(rows, oracle, oracle_sources)
        if args.readme:
            write_between_markers(args.readme, table)
    except CocktailError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    print(table)
    if args.readme:
        print(f"{len(rows)} system(s) written into {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
