"""Running a pipeline stage: --help, params loading, and one clean error line instead of a traceback."""

import argparse
import sys
from collections.abc import Callable

from cocktail.errors import CocktailError
from cocktail.params import Params


def run_stage(main: Callable[[Params], None], description: str) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file to read (default: params.yaml)")
    args = parser.parse_args()
    try:
        main(Params.load(args.params))
    except CocktailError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
