"""A change as a reviewer reads it: one Markdown page (and its PNG figures beside it) comparing experiments with a
base revision. Everything comes from what git already holds for each revision (params.yaml, the metrics JSON and
CSV files, the DVCLive curves, all kept with `cache: false`), so the page is written offline, with nothing rerun."""

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from cocktail.atomic import atomic_dir
from cocktail.errors import CocktailError
from cocktail.report import figures
from cocktail.scoring.results import COLUMNS

WORKSPACE = "workspace"
REMOTE = "origin"
PAGE = "review.md"
CURVES_DIR = "dvclive/plots/metrics"
CURVES = ("train/loss", "eval/loss", "eval/si_snri")


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def local_experiments(name: str, root: Path) -> list[str]:
    refs = git("for-each-ref", "--format=%(objectname) %(refname)", "refs/exps", cwd=root).stdout.splitlines()
    return [line.split()[0] for line in refs if line.endswith(f"/{name}")]


def pull_experiment(name: str, root: Path) -> None:
    """A teammate's experiment, fetched from `origin` with its metrics (they live in git; no DVC cache is needed)."""
    if REMOTE not in git("remote", cwd=root).stdout.split():
        raise CocktailError(
            f"'{name}' is neither a git revision nor a DVC experiment here, and there is no git remote '{REMOTE}' to fetch "
            "it from: `dvc exp show` lists the experiments, `git branch -a` the branches."
        )
    if git("ls-remote", "--exit-code", "-q", REMOTE, cwd=root).returncode not in (0, 2):
        url = git("remote", "get-url", REMOTE, cwd=root).stdout.strip()
        raise CocktailError(f"git remote '{REMOTE}' ({url}) cannot be reached to fetch experiment '{name}': check the URL and access.")
    dvc = Path(sys.executable).parent / "dvc"
    pulled = subprocess.run([str(dvc) if dvc.exists() else "dvc", "exp", "pull", "--no-cache", REMOTE, name], cwd=root,
                            capture_output=True, text=True)
    if pulled.returncode:
        raise CocktailError(
            f"'{name}' is neither a git revision nor a DVC experiment here or on '{REMOTE}': `dvc exp list {REMOTE}` lists "
            "the experiments pushed there, `git branch -a` the branches."
        )


def resolve(name: str, root: Path) -> str | None:
    """The commit of a revision or of a DVC experiment of that name (fetched from origin if need be); None for the
    workspace."""
    if name == WORKSPACE:
        return None
    found = git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", cwd=root)
    if found.returncode == 0:
        return found.stdout.strip()
    matches = local_experiments(name, root)
    if not matches:
        pull_experiment(name, root)
        matches = local_experiments(name, root)
    if len(matches) != 1:
        raise CocktailError(f"{len(matches)} experiments are named '{name}': name one by its commit (`dvc exp show --sha`).")
    return matches[0]


@dataclass
class Revision:
    """One side of the comparison: its params and the files its stages committed."""

    name: str
    commit: str | None
    root: Path

    def read(self, path: str) -> str | None:
        if self.commit is None:
            file = self.root / path
            return file.read_text() if file.is_file() else None
        shown = git("show", f"{self.commit}:{path}", cwd=self.root)
        return shown.stdout if shown.returncode == 0 else None

    def json(self, path: str) -> dict:
        text = self.read(path)
        return json.loads(text) if text else {}

    def table(self, path: str, sep: str = ",") -> pd.DataFrame | None:
        text = self.read(path)
        return pd.read_csv(io.StringIO(text), sep=sep) if text else None

    def params(self) -> dict:
        return flatten(yaml.safe_load(self.read("params.yaml") or "") or {})

    def label(self) -> str:
        model = self.json("metrics/train.json").get("model") or self.params().get("model", "?")
        return f"{self.name} ({model})"


def flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def load_revisions(base: str, experiments: list[str], root: Path) -> list[Revision]:
    """The base first; each must hold an evaluation, or there is nothing to compare."""
    revisions = [Revision(name, resolve(name, root), root) for name in [base, *experiments]]
    for revision in revisions:
        if not revision.json("metrics/eval.json"):
            what = "base" if revision is revisions[0] else "experiment"
            raise CocktailError(
                f"{what} '{revision.name}' has no metrics/eval.json: pick a revision where `dvc repro` ran (and was "
                "committed), or run it."
            )
    return revisions


def cell(value, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def delta(value, base) -> str:
    if not all(isinstance(v, (int, float)) for v in (value, base)):
        return ""
    return f"{value - base:+.2f}"


def params_section(revisions: list[Revision]) -> str:
    params = [r.params() for r in revisions]
    keys = sorted({k for p in params for k in p if len({json.dumps(q.get(k), sort_keys=True) for q in params}) > 1})
    if not keys:
        return "No params differ."
    lines = ["| param | " + " | ".join(r.name for r in revisions) + " |", "|---" * (len(revisions) + 1) + "|"]
    lines += [f"| `{k}` | " + " | ".join(f"`{p[k]}`" if k in p else "—" for p in params) + " |" for k in keys]
    return "\n".join(lines)


def scores_section(revisions: list[Revision]) -> str:
    """Each row's metric with its change against the base beside it; the base's oracle masks as the ceiling."""
    base = revisions[0].json("metrics/eval.json")
    header = "| system | " + " | ".join(f"{title} | Δ" for title, _ in COLUMNS) + " | mask accuracy |"
    lines = [header, "|---" * (2 * len(COLUMNS) + 2) + "|"]
    for revision in revisions:
        scores = revision.json("metrics/eval.json")
        cells = " | ".join(f"{cell(scores.get(k))} | {delta(scores.get(k), base.get(k)) if revision is not revisions[0] else ''}" for _, k in COLUMNS)
        lines.append(f"| {revision.label()} | {cells} | {cell(scores.get('mask_accuracy'), '{:.1%}')} |")
    for mask, scores in revisions[0].json("metrics/oracle.json").items():
        cells = " | ".join(f"{cell(scores.get(k))} | " for _, k in COLUMNS)
        lines.append(f"| oracle {mask.upper()} (ceiling) | {cells} | |")
    return "\n".join(lines)


def cost_section(revisions: list[Revision]) -> str:
    lines = ["| system | parameters | training time | real-time factor |", "|---|---:|---:|---:|"]
    for revision in revisions:
        train = revision.json("metrics/train.json")
        seconds = train.get("train_seconds")
        lines.append(
            f"| {revision.label()} | {cell(train.get('parameters'), '{:,}')} | {cell(seconds and seconds / 60, '{:.1f} min')} "
            f"| {cell(train.get('real_time_factor'), '{:.3f}')} |"
        )
    return "\n".join(lines)


def write_review(base: str, experiments: list[str], out_dir: str | Path, root: str | Path = ".") -> Path:
    """The page and its figures, all written or none; returns the page's path."""
    revisions = load_revisions(base, experiments or [WORKSPACE], Path(root))
    per_source = {r.label(): r.table("metrics/eval_per_source.csv") for r in revisions}
    curves = {r.label(): {c: t for c in CURVES if (t := r.table(f"{CURVES_DIR}/{c}.tsv", "\t")) is not None} for r in revisions}
    names = ", ".join(f"`{r.name}`" for r in revisions[1:])
    with atomic_dir(out_dir) as tmp:
        figures.sdr_per_source(tmp / "sdr_per_source.png", {k: v for k, v in per_source.items() if v is not None})
        figures.curves_overlaid(tmp / "training_curves.png", curves)
        page = f"""# Review: {names} against `{revisions[0].name}`

## Params that differ

{params_section(revisions)}

## Scores on the test set (dB)

Δ: change against `{revisions[0].name}`. The oracle masks are the ceiling a mask model is judged against.

{scores_section(revisions)}

## Cost

{cost_section(revisions)}

## SDR per test source

![SDR per test source](sdr_per_source.png)

## Training curves

![Training curves](training_curves.png)
"""
        (tmp / PAGE).write_text(page)
    return Path(out_dir) / PAGE
