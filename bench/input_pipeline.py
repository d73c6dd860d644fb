"""Whether the input pipeline keeps up with the model, on the data stages' outputs (`dvc repro features` first).

1. Seconds per training step of the model params.yaml names, fed through the project's tf.data pipeline against
   the same batches held in memory, alternated in one run (goal: pipeline/memory speed >= 0.95x).
2. Batches per second of the input pipeline alone, no model: from the features stage's shards and mixed afresh
   (`train.dynamic_mixing`), for each kind of training pairs (one model stands for each), at the default settings
   and at the reference ones (4 s waveform segments, as Conv-TasNet's paper). A device consumes batches at its
   step rate; a pipeline slower than that starves it.
3. Seconds per epoch of the default model with dynamic mixing against the fixed set, in one run (goal <= 1.10x).

Usage: python bench/input_pipeline.py [--steps 30] [--batches 40]"""

import argparse
import copy
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
import yaml

import cocktail  # noqa: F401  (TensorFlow's settings, before TensorFlow loads)
from cocktail.data.datasets import as_dataset, training_sources
from cocktail.data.features import write_features
from cocktail.data.mixture_set import iter_mixtures
from cocktail.dsp.spectral import SpectralSettings
from cocktail.inference.separation import Separator
from cocktail.models import architecture_section, get_architecture, registered
from cocktail.params import Params

FEATURES, PREPARED = "data/features", "data/prepared"
REFERENCE = {"segment_seconds": 4.0}  # the features keys the papers set otherwise (chunk_frames 100 is already theirs)



def sources(params, kind: str, features_dir: str, spectral, batch_size: int):
    """The train stage's batch sources, as it builds them from params."""
    return training_sources(
        kind, features_dir, PREPARED, spectral, batch_size, int(params["seed"]), params.section("train"), f"{params['model']}.batch_size",
        params.section("features"), params.section("mix"), params.section("noise"),
    )

def with_settings(params: Params, **changes) -> Params:
    """A copy of params.yaml with dotted keys replaced."""
    data = copy.deepcopy(yaml.safe_load(open(params.source)))
    for key, value in changes.items():
        *path, last = key.split(".")
        node = data
        for part in path:
            node = node[part]
        node[last] = value
    return Params(data, params.source)


def seconds_per_step(model: keras.Model, dataset: tf.data.Dataset, steps: int) -> float:
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return (time.perf_counter() - start) / steps


def compiled(name: str, section: dict, spectral: SpectralSettings, n_sources: int) -> keras.Model:
    model = Separator.create(name, section, spectral, n_sources).model
    model.compile(optimizer=keras.optimizers.Adam(float(section["learning_rate"])), loss=get_architecture(name).loss(section))
    return model


def pipeline_against_memory(params: Params, spectral: SpectralSettings, steps: int) -> None:
    name = params["model"]
    architecture, section = get_architecture(name), architecture_section(params, name)
    pairs = lambda batch: architecture.training_pairs(batch, normaliser=spectral.normaliser)  # noqa: E731
    train, _ = sources(params, architecture.inference.example_kind, FEATURES, spectral, int(section["batch_size"]))
    held = list(as_dataset(train, pairs).take(steps).as_numpy_iterator())
    memory = tf.data.Dataset.from_tensor_slices(tuple(np.stack([batch[i] for batch in held]) for i in (0, 1)))
    model = compiled(name, section, spectral, int(params["mix.n_sources"]))
    model.fit(memory.take(2), epochs=1, verbose=0)  # trace once
    times = {"pipeline": [], "memory": []}
    for _ in range(3):  # each pass of the pipeline starts a new epoch, with its first group of shards to read
        times["pipeline"].append(seconds_per_step(model, as_dataset(train, pairs), steps))
        times["memory"].append(seconds_per_step(model, memory, steps))
    best = {key: min(values) for key, values in times.items()}
    print(f"1. {name}, batch {section['batch_size']}: {best['pipeline']:.3f} s a step through the pipeline, "
          f"{best['memory']:.3f} s from memory: speed {best['memory'] / best['pipeline']:.2f}x of memory's (goal >= 0.95x)")


def batches_per_second(source, pairs, batches: int) -> float:
    dataset = as_dataset(source, pairs).take(batches + 1)
    iterator = iter(dataset)
    next(iterator)  # the first batch starts the generator and the pipeline's threads
    start = time.perf_counter()
    for _ in iterator:
        pass
    return batches / (time.perf_counter() - start)


def representatives() -> dict:
    """One model for each kind of training pairs, the first registered that uses it."""
    found = {}
    for name, architecture in registered().items():
        if architecture.trained_by_gradient:
            found.setdefault(architecture.training_pairs.__name__, name)
    return found


def pipeline_alone(params: Params, spectral: SpectralSettings, batches: int, scratch: str) -> None:
    print(f"\n2. input pipeline alone, batches per second ({batches} batches after the first):")
    print(f"   {'pairs':<16} {'model':<11} {'settings':<10} {'batch':>5} {'fixed':>8} {'dynamic':>8}")
    features = params.section("features")
    reference_features = f"{scratch}/reference"
    segment = int(REFERENCE["segment_seconds"] * spectral.sample_rate)
    for split, count in (("train", 300), ("valid", 20)):
        mixtures = (mixture for _, mixture in zip(range(count), iter_mixtures(f"data/mixtures/{split}")))
        write_features(
            mixtures, f"{reference_features}/{split}", spectral.stft, spectral.vad_db, int(features["chunk_frames"]), segment, 64 << 20
        )
    for pairs_name, name in representatives().items():
        architecture, section = get_architecture(name), dict(params.section(name))
        pairs = lambda batch, a=architecture: a.training_pairs(batch, normaliser=spectral.normaliser)  # noqa: E731
        kind, batch = architecture.inference.example_kind, int(section["batch_size"])
        for setting, features_dir, changes in (
            ("default", FEATURES, {}),
            ("reference", reference_features, {f"features.{k}": v for k, v in REFERENCE.items()}),
        ):
            rates = []
            for dynamic in (False, True):
                chosen = with_settings(params, **changes, **{"train.dynamic_mixing": dynamic, "model": name})
                train, _ = sources(chosen, kind, features_dir, spectral, batch)
                rates.append(batches_per_second(train, pairs, batches))
            print(f"   {pairs_name:<16} {name:<11} {setting:<10} {batch:>5} {rates[0]:>8.1f} {rates[1]:>8.1f}")


def dynamic_epoch_cost(params: Params, spectral: SpectralSettings, steps: int) -> None:
    name = params["model"]
    architecture, section = get_architecture(name), architecture_section(params, name)
    pairs = lambda batch: architecture.training_pairs(batch, normaliser=spectral.normaliser)  # noqa: E731
    model = compiled(name, section, spectral, int(params["mix.n_sources"]))
    times = {False: [], True: []}
    for _ in range(2):
        for dynamic in (False, True):
            chosen = with_settings(params, **{"train.dynamic_mixing": dynamic})
            train, _ = sources(chosen, architecture.inference.example_kind, FEATURES, spectral, int(section["batch_size"]))
            dataset = as_dataset(train, pairs)
            model.fit(dataset.take(1), epochs=1, verbose=0)
            times[dynamic].append(seconds_per_step(model, dataset, steps))
    fixed, dynamic = min(times[False]), min(times[True])
    print(f"\n3. {name}: {fixed:.3f} s a step on the fixed set, {dynamic:.3f} s mixed afresh: an epoch costs "
          f"{dynamic / fixed:.2f}x (goal <= 1.10x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps timed for each measurement")
    parser.add_argument("--batches", type=int, default=40, help="batches read for each pipeline-alone rate")
    args = parser.parse_args()
    params = Params.load()
    spectral = SpectralSettings.load(f"{FEATURES}/spectral.json")
    keras.utils.set_random_seed(0)
    pipeline_against_memory(params, spectral, args.steps)
    with tempfile.TemporaryDirectory() as scratch:
        pipeline_alone(params, spectral, args.batches, scratch)
    dynamic_epoch_cost(params, spectral, args.steps)


if __name__ == "__main__":
    main()
