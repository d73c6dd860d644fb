"""Seconds per training step of every architecture, at the params.yaml defaults and at the reference
("paper") sizes, on random data of the real shapes. Ratios are against the default blstm, measured
in the same run. Usage: python bench/train_step.py [--steps 5]"""

import argparse
import time

import keras
import numpy as np

import cocktail  # noqa: F401  (TensorFlow's allocator and log level, set before TensorFlow loads)
from cocktail.dsp.spectral import Normaliser
from cocktail.models import ARCHITECTURES
from cocktail.params import Params

N_BINS, N_SOURCES = 129, 2


def batch_for(architecture, section, params, rng):
    """Random features of the features stage's shapes, turned into inputs and targets by the architecture itself."""
    batch, frames = int(section["batch_size"]), int(params["features.chunk_frames"])
    samples = int(float(params["features.segment_seconds"]) * int(params["corpus.sample_rate"]))
    ibm = np.eye(N_SOURCES, dtype=np.uint8)[rng.integers(0, N_SOURCES, (batch, frames, N_BINS))]
    features = {
        "log_mag": rng.standard_normal((batch, frames, N_BINS)).astype(np.float16),
        "src_mag": np.abs(rng.standard_normal((batch, frames, N_BINS, N_SOURCES))).astype(np.float16),
        "ibm": ibm,
        "vad": np.ones((batch, frames, N_BINS), np.uint8),
        "mix_wave": rng.standard_normal((batch, samples), dtype=np.float32),
        "src_wave": rng.standard_normal((batch, N_SOURCES, samples), dtype=np.float32),
    }
    return architecture.training_pairs(features, Normaliser(np.zeros(N_BINS, np.float32), np.ones(N_BINS, np.float32)))


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
        if not architecture.trained_by_gradient:
            continue  # NMF learns its dictionaries in one pass: its cost is training time in metrics/train.json
        default = dict(params.section(name))
        for size, section in (("default", default), ("reference", {**default, **architecture.reference})):
            seconds, count = seconds_per_step(architecture, section, params, args.steps)
            rows.append((name, size, section["batch_size"], count, seconds))
    reference = next(seconds for name, size, _, _, seconds in rows if (name, size) == ("blstm", "default"))
    print(f"{'model':<11} {'size':<10} {'batch':>5} {'parameters':>11} {'s/step':>7} {'vs blstm default':>17}")
    for name, size, batch, count, seconds in rows:
        print(f"{name:<11} {size:<10} {batch:>5} {count:>11,} {seconds:>7.3f} {seconds / reference:>16.1f}x")


if __name__ == "__main__":
    main()
