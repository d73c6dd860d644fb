"""Running a pipeline stage: --help, params loading, the paths dvc.yaml's cmd gives, and one clean error line
instead of a traceback."""

import argparse
import sys
from collections.abc import Callable

from cocktail.errors import CocktailError
from cocktail.params import Params


def run_stage(main: Callable[[Params, argparse.Namespace], None], description: str, paths: dict[str, str]) -> None:
    """`paths` names each path the stage reads or writes and says what it is: dvc.yaml's cmd gives them all, so
    that the paths DVC tracks and the paths the stage uses are written once."""
    parser = argparse.ArgumentParser(
        description=description, epilog="dvc.yaml's cmd gives every path: run the stage as `dvc repro <stage>`."
    )
    parser.add_argument("--params", default="params.yaml", help="params file to read (default: params.yaml)")
    for name, meaning in paths.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, required=True, metavar="PATH", help=meaning)
    args = parser.parse_args()
    try:
        main(Params.load(args.params), args)
    except CocktailError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
