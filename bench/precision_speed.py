"""Seconds per training step of each `train.precision` against float32, measured in the same run, for the
architectures at their params.yaml defaults on random data of the real shapes. Each precision runs in its own
process, since Keras's dtype policy is global. Usage: python bench/precision_speed.py [--models dpcl convtasnet]"""

import argparse
import json
import os
import subprocess
import sys
import time

from cocktail.engine.distribute import PRECISIONS

ONE_PRECISION = """
import json, sys, time, keras, numpy as np
sys.path.insert(0, "bench")
from train_step import batch_for
from cocktail.engine.distribute import float32_outputs, loss_scaled, set_precision
from cocktail.models import ARCHITECTURES
from cocktail.params import Params
name, precision, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
params = Params.load()
architecture, section = ARCHITECTURES[name], dict(params.section(name))
set_precision(precision)
model = float32_outputs(architecture.build(section, 129, 2))
model.compile(optimizer=loss_scaled(keras.optimizers.Adam(1e-3)), loss=architecture.loss(section))
x, y = batch_for(architecture, section, params, np.random.default_rng(0))
model.train_on_batch(x, y)
start = time.perf_counter()
for _ in range(steps):
    loss = model.train_on_batch(x, y)
print(json.dumps({"seconds": (time.perf_counter() - start) / steps, "loss": float(loss)}))
"""


def seconds_per_step(name: str, precision: str, steps: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", ONE_PRECISION, name, precision, str(steps)], capture_output=True, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if result.returncode != 0:
        sys.exit(f"error: {name} under {precision} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["dpcl", "convtasnet"])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"{'model':<11} {'precision':<15} {'s/step':>7} {'vs float32':>11} {'last loss':>10}")
    for name in args.models:
        rows = {precision: seconds_per_step(name, precision, args.steps) for precision in PRECISIONS}
        for precision, row in rows.items():
            ratio = row["seconds"] / rows["float32"]["seconds"]
            print(f"{name:<11} {precision:<15} {row['seconds']:>7.3f} {ratio:>10.2f}x {row['loss']:>10.4f}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
