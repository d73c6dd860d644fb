"""Seconds per training step of every architecture, at the params.yaml defaults and at the reference
("paper") sizes, on random data of the real shapes. Ratios are against the default blstm, measured
in the same run. Usage: python bench/train_step.py [--steps 5]"""

import argparse
import time

import keras
import numpy as np

from cocktail.models import ARCHITECTURES
from cocktail.params import Params

REFERENCE = {
    "blstm": {"hidden": 300, "layers": 2},
    "dpcl": {"hidden": 300, "layers": 4, "embedding_dim": 40},
    "convtasnet": {"N": 256, "L": 20, "B": 256, "Sc": 256, "H": 512, "P": 3, "X": 8, "R": 4},
}
N_BINS, N_SOURCES = 129, 2


def batch_for(architecture, section, params, rng):
    if architecture.inference == "time":
        samples = int(float(params["features.segment_seconds"]) * int(params["corpus.sample_rate"]))
        return rng.standard_normal((section["batch_size"], samples), dtype=np.float32), rng.standard_normal(
            (section["batch_size"], N_SOURCES, samples), dtype=np.float32
        )
    frames = int(params["features.chunk_frames"])
    x = rng.standard_normal((section["batch_size"], frames, N_BINS), dtype=np.float32)
    ibm = np.eye(N_SOURCES, dtype=np.uint8)[rng.integers(0, N_SOURCES, (section["batch_size"], frames, N_BINS))]
    if architecture.inference == "clustering":
        return x, np.concatenate([ibm, np.ones_like(ibm[..., :1])], axis=-1)
    return x, ibm


def seconds_per_step(architecture, section, params, steps: int) -> tuple[float, int]:
    rng = np.random.default_rng(0)
    model = architecture.build(section, N_BINS, N_SOURCES)
    model.compile(keras.optimizers.Adam(1e-3), loss=architecture.loss(section))
    x, y = batch_for(architecture, section, params, rng)
    model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps, model.count_params()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    params = Params.load()
    rows = []
    for name, architecture in ARCHITECTURES.items():
        default = dict(params.section(name))
        for size, section in (("default", default), ("reference", {**default, **REFERENCE[name]})):
            seconds, count = seconds_per_step(architecture, section, params, args.steps)
            rows.append((name, size, section["batch_size"], count, seconds))
    reference = rows[0][4]
    print(f"{'model':<11} {'size':<10} {'batch':>5} {'parameters':>11} {'s/step':>7} {'vs blstm default':>17}")
    for name, size, batch, count, seconds in rows:
        print(f"{name:<11} {size:<10} {batch:>5} {count:>11,} {seconds:>7.3f} {seconds / reference:>16.1f}x")


if __name__ == "__main__":
    main()
