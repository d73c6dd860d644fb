"""Peak memory (RSS) of the mix, features and train stages at two training-set sizes on the default corpus, side by
side: the stages stream shards, so their peaks should not grow with the number of training mixtures. Each stage runs
as its own process in a scratch project (no DVC, no cache copies); the corpus is prepared once.
Usage: python bench/stage_memory.py [--sizes 2000 20000] [--model ff] [--epochs 1] [--keep DIR]"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("mix", "features", "train")


def run_stage(project: Path, stage: str) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one stage script, measured by GNU time on that process alone."""
    report = project / f".{stage}.rss"
    start = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), sys.executable, f"pipeline/{stage}.py"],
        cwd=project, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"error: {stage} failed in {project}:\n{result.stderr[-3000:]}")
    return int(report.read_text().split()[-1]) / 1024, seconds


def write_params(project: Path, train_mixtures: int, model: str, epochs: int) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["mix"]["train_mixtures"] = train_mixtures
    params["model"] = model
    params[model]["epochs"] = epochs
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def disk_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs=2, default=[2000, 20000], help="training mixtures (default 2000 20000)")
    parser.add_argument("--model", default="ff", help="architecture to train (default ff: memory, not accuracy, is measured)")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs (default 1)")
    parser.add_argument("--keep", type=Path, help="scratch folder to use and keep (default: a temporary one)")
    args = parser.parse_args()
    if not shutil.which("/usr/bin/time"):
        sys.exit("error: GNU time (/usr/bin/time) measures each stage's peak memory: install it (apt-get install time).")
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="stage_memory."))
    try:
        project = scratch / "project"
        if not (project / "data/prepared/manifest.csv").is_file():
            project.mkdir(parents=True, exist_ok=True)
            for name in ("pipeline", "data/synthetic"):
                shutil.copytree(ROOT / name, project / name, dirs_exist_ok=True)
            write_params(project, args.sizes[0], args.model, args.epochs)
            print("preparing the default corpus once ...", flush=True)
            run_stage(project, "prepare")
        results = {}
        for size in args.sizes:
            write_params(project, size, args.model, args.epochs)
            for stage in STAGES:
                print(f"{size} training mixtures: {stage} ...", flush=True)
                results[size, stage] = run_stage(project, stage)
            results[size, "disk"] = disk_mib(project / "data/mixtures"), disk_mib(project / "data/features")
        small, large = args.sizes
        print(f"\npeak RSS per stage, {os.cpu_count()} cores, model {args.model}, {args.epochs} epoch(s)")
        print(f"{'stage':<10}{f'{small} mixtures':>18}{f'{large} mixtures':>18}{'ratio':>8}{'seconds':>20}")
        for stage in STAGES:
            (rss_small, sec_small), (rss_large, sec_large) = results[small, stage], results[large, stage]
            print(f"{stage:<10}{rss_small:>14.0f} MiB{rss_large:>14.0f} MiB{rss_large / rss_small:>7.2f}x"
                  f"{sec_small:>10.0f} /{sec_large:>7.0f}")
        for size in args.sizes:
            mixtures, features = results[size, "disk"]
            print(f"on disk at {size}: mixtures {mixtures:.0f} MiB, features {features:.0f} MiB")
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
