"""The `cocktail` command: separate your own recording with a trained model, or review experiments against a base."""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from cocktail.errors import CocktailError
from cocktail.models import architecture_names
from cocktail.models.model_dir import read_config
from cocktail.startup import quiet_tensorflow_startup

SEPARATE_HELP = """Separate a recording into one WAV per source, written as OUT/<name>_s1.wav, _s2.wav ... at the
recording's own sample rate. Any length: long files go through the model in overlapping chunks, with the
sources kept in the same order from chunk to chunk, and memory stays flat. Stereo is downmixed to mono."""


REVIEW_HELP = """Write OUT/review.md and its figures: the params that differ, the test scores of each experiment against the
base with their deltas and the oracle masks as the ceiling, the cost (parameters, training time, real-time factor), the
per-source SDR side by side and the training curves overlaid. Offline: it reads what git holds for each revision (run
`dvc exp pull origin NAME` first for a teammate's experiment). In CI: `cocktail review origin/main`."""


def parser() -> argparse.ArgumentParser:
    from cocktail.inference.recording import Chunking

    top = argparse.ArgumentParser(prog="cocktail", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    separate = commands.add_parser("separate", help="separate a recording with a trained model", description=SEPARATE_HELP)
    separate.add_argument("input", type=Path, help="the recording: WAV, FLAC, OGG or anything libsndfile reads; mono or stereo; any rate")
    separate.add_argument("-o", "--out", type=Path, required=True, help="folder to write the sources to (created if needed)")
    separate.add_argument(
        "--model", type=Path, default=Path("model"),
        help=f"trained model folder, of any registered architecture ({', '.join(architecture_names())}) that separates new "
        "recordings (default: model, the pipeline's current model, when run from the project root)",
    )
    separate.add_argument(
        "--n-sources", type=int,
        help="how many sources to find; only models that cluster embeddings choose (default: as trained)",
    )
    separate.add_argument("--chunk-seconds", type=float, default=Chunking.chunk_seconds, help="seconds per chunk (default: %(default)s)")
    separate.add_argument(
        "--overlap-seconds", type=float, default=Chunking.overlap_seconds,
        help="seconds shared by neighbouring chunks, to match and cross-fade their sources (default: %(default)s)",
    )
    separate.add_argument(
        "--allow-upsampling", action="store_true",
        help="accept a recording sampled below the model's rate (it lacks the band the model expects)",
    )
    separate.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    review = commands.add_parser("review", help="write a Markdown review of experiments against a base", description=REVIEW_HELP)
    review.add_argument("base", nargs="?", default="main", help="git revision to compare against (default: %(default)s)")
    review.add_argument(
        "experiments", nargs="*", metavar="EXPERIMENT",
        help="DVC experiment names or git revisions to review (default: workspace, the results in this folder)",
    )
    review.add_argument("-o", "--out", type=Path, default=Path("review"), help="folder for review.md and its figures (default: %(default)s)")
    return top


def check_writable(folder: Path) -> None:
    """Refuse a folder that cannot be written before the model loads and the separation runs; the check itself
    leaves nothing behind, so a refused run creates no folder."""
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    try:
        with tempfile.TemporaryDirectory(dir=existing):
            pass
    except OSError as err:
        raise CocktailError(
            f"{folder}: the sources cannot be written there ({err.strerror} in {existing}). Give -o a folder you can write to."
        ) from err


def separate(args) -> None:
    from cocktail.inference.recording import Chunking, inspect_recording, separate_recording

    if args.n_sources is not None and args.n_sources < 1:
        raise CocktailError(f"--n-sources is {args.n_sources}: ask for at least one source.")
    if args.out.exists() and not args.out.is_dir():
        raise CocktailError(f"{args.out} exists and is not a folder: give -o a folder to write the sources to.")
    check_writable(args.out)
    recording = inspect_recording(args.input)
    chunking = Chunking(args.chunk_seconds, args.overlap_seconds)
    read_config(args.model)  # a missing or incomplete model folder is named before TensorFlow loads (5 to 8 s)
    with quiet_tensorflow_startup():
        from cocktail.inference.separation import load_separator
    separator = load_separator(args.model)
    created = not args.out.exists()
    start = time.perf_counter()
    try:
        paths = separate_recording(
            separator, recording, args.out, args.n_sources, chunking, args.allow_upsampling, args.model, not args.quiet
        )
    except BaseException:
        if created and args.out.is_dir() and not any(args.out.iterdir()):
            args.out.rmdir()
        raise
    seconds = time.perf_counter() - start
    print(
        f"{recording.path}: {recording.seconds:.1f} s at {recording.sample_rate} Hz, {recording.channels} channel(s), separated by "
        f"'{separator.architecture_name}' in {seconds:.1f} s (real-time factor {seconds / recording.seconds:.3f}):"
    )
    for path in paths:
        print(f"  {path}")


def review(args) -> None:
    from cocktail.report.review import write_review

    print(f"review written: {write_review(args.base, args.experiments, args.out)}")


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        {"separate": separate, "review": review}[args.command](args)
    except CocktailError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
