"""Where the train stage's time goes, for the model params.yaml names at its settings, on the data stages' outputs:
the training steps, the per-epoch validation (Keras's validation pass and the whole-mixture separations behind
val_si_snri), the real-time-factor measurement, and, inside a step, each layer's forward and backward pass (timed
alone on its real input shape, summed by layer type). Projected for a whole `dvc repro train` from the steps per
epoch and `epochs`. Needs `dvc repro features`. Usage: python bench/train_profile.py [--steps 20] [--repeats 5]"""

import argparse
import collections
import time

import keras
import numpy as np
import tensorflow as tf

import cocktail  # noqa: F401  (TensorFlow's settings, before TensorFlow loads)
from cocktail.data.datasets import as_dataset, training_sources
from cocktail.data.mixture_set import MixtureSet
from cocktail.dsp.spectral import SpectralSettings
from cocktail.engine.training import TrainConfig, mean_si_snri, real_time_factor
from cocktail.inference.separation import Separator
from cocktail.models import architecture_section, get_architecture
from cocktail.params import Params

FEATURES, PREPARED, VALID_MIXTURES = "data/features", "data/prepared", "data/mixtures/valid"


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def layer_calls(model: keras.Model, x: np.ndarray) -> list[tuple[keras.layers.Layer, tuple, dict]]:
    """Every layer with the arguments it is called with for input `x`, read off the functional graph."""
    nodes = [(layer, layer._inbound_nodes[0]) for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    tensors = list({id(t): t for _, node in nodes for t in node.arguments.keras_tensors}.values())
    values = keras.Model(model.inputs, tensors)(x, training=False)
    by_id = {id(t): v for t, v in zip(tensors, values)}
    return [(layer, *node.arguments.fill_in(by_id)) for layer, node in nodes]


def layer_seconds(layer: keras.layers.Layer, args: tuple, kwargs: dict, repeats: int) -> float:
    """Forward and backward (gradients for the input tensors and the layer's weights) of one layer, compiled as a
    training step is; arguments that are not tensors (a None mask) are passed as they are."""
    leaves = tf.nest.flatten((args, kwargs))
    is_tensor = [tf.is_tensor(leaf) or isinstance(leaf, np.ndarray) for leaf in leaves]
    tensors = [tf.convert_to_tensor(leaf) for leaf, tensor in zip(leaves, is_tensor) if tensor]

    @tf.function
    def step(tensors):
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            fed = iter(tensors)
            call_args, call_kwargs = tf.nest.pack_sequence_as((args, kwargs), [next(fed) if t else leaf for leaf, t in zip(leaves, is_tensor)])
            total = sum(tf.reduce_sum(tf.cast(y, tf.float32) ** 2) for y in tf.nest.flatten(layer(*call_args, **call_kwargs)))
        return tape.gradient(total, [*tensors, *layer.trainable_weights])

    step(tensors)
    return min(timed(lambda: step(tensors)) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps timed (after 3 of warm-up)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each layer alone; the fastest counts")
    args = parser.parse_args()
    params = Params.load()
    name = params["model"]
    architecture = get_architecture(name)
    section = architecture_section(params, name)
    cfg = TrainConfig.from_params(params.section("train"), section, int(params["seed"]))
    spectral = SpectralSettings.load(f"{FEATURES}/spectral.json")
    valid_mixtures = MixtureSet.load(VALID_MIXTURES).head(cfg.valid_mixtures)
    keras.utils.set_random_seed(cfg.seed)
    separator = Separator.create(name, section, spectral, valid_mixtures.n_sources)
    model = separator.model
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate, clipnorm=cfg.clip_norm), loss=architecture.loss(section))
    pairs = lambda batch: architecture.training_pairs(batch, normaliser=spectral.normaliser)  # noqa: E731
    train, valid = training_sources(
        architecture.inference.example_kind, FEATURES, PREPARED, spectral, cfg.batch_size, int(params["seed"]), params.section("train"),
        f"{name}.batch_size", params.section("features"), params.section("mix"), params.section("noise"),
    )
    batches = as_dataset(train, pairs)
    model.fit(batches.take(3), epochs=1, verbose=0)
    step = timed(lambda: model.fit(batches.take(args.steps), epochs=1, verbose=0)) / args.steps
    validation_pass = timed(lambda: model.evaluate(as_dataset(valid, pairs), verbose=0))
    separations = timed(lambda: mean_si_snri(separator, valid_mixtures))
    rtf = timed(lambda: real_time_factor(separator, valid_mixtures, spectral.sample_rate))

    parts = {
        f"training steps ({train.steps} x {cfg.epochs} epochs at {step:.3f} s)": step * train.steps * cfg.epochs,
        f"validation pass ({valid.steps} batches x {cfg.epochs})": validation_pass * cfg.epochs,
        f"val_si_snri separations ({len(valid_mixtures)} mixtures x {cfg.epochs})": separations * cfg.epochs,
        "real-time factor measurement (once)": rtf,
    }
    total = sum(parts.values())
    print(f"train stage of {name} at params.yaml's settings, projected: {total / 60:.1f} min")
    for part, seconds in parts.items():
        print(f"  {part:<58} {seconds:>8.1f} s {100 * seconds / total:>5.1f} %")

    x, _ = pairs(next(train.batches(0)))
    by_type: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter = collections.Counter()
    for layer, call_args, call_kwargs in layer_calls(model, x):
        by_type[type(layer).__name__] += layer_seconds(layer, call_args, call_kwargs, args.repeats)
        counts[type(layer).__name__] += 1
    layers_total = sum(by_type.values())
    print(f"\none step's layers, each alone, forward + backward on a batch of {len(x)} (sum {layers_total:.3f} s "
          f"against {step:.3f} s for the whole step with the optimiser):")
    for kind, seconds in sorted(by_type.items(), key=lambda item: -item[1]):
        print(f"  {kind:<24} x{counts[kind]:<3} {seconds:>8.4f} s {100 * seconds / layers_total:>5.1f} %")


if __name__ == "__main__":
    main()
