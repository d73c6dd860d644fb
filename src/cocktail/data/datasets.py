"""Training batches as tf.data pipelines: read shard by shard from the features stage, or mixed afresh every epoch
from the prepared training utterances (dynamic mixing). Either way only a few shards or mixtures are in memory."""

import collections
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import tensorflow as tf

from cocktail.data.features import FeatureShards, spectral_chunks, stack_examples, waveform_segments
from cocktail.data.mixing import Acoustics, random_mixtures, source_pools, split_acoustics
from cocktail.data.prepared_data import load_mix_list, load_prepared
from cocktail.dsp.spectral import SpectralSettings
from cocktail.errors import CocktailError
from cocktail.params import checked_choice

# (arrays of one batch as the features stage stores them) -> (network inputs, targets)
Pairs = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]
# A project error raised while tf.data runs a generator, kept so the stage can end with its message, not TF's traceback.
RAISED_IN_PIPELINE: dict[int, CocktailError] = {}
# Dynamic mixing's generator is apart from the mix stage's (streams 0, 1, 2 are train, valid, test).
DYNAMIC_MIXING_STREAM = 3


def batched(examples: dict[str, np.ndarray], batch_size: int) -> Iterator[dict[str, np.ndarray]]:
    for start in range(0, len(next(iter(examples.values()))), batch_size):
        yield {key: value[start : start + batch_size] for key, value in examples.items()}


def concatenated(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


@dataclass
class ShardedExamples:
    """The features stage's examples of one split. Training reads `shuffle_shards` shards at a time in a seeded
    order that changes every epoch and shuffles their union; validation reads them in order."""

    shards: FeatureShards
    kind: str
    batch_size: int
    seed: int
    shuffle: bool
    shuffle_shards: int = 1
    whole_batches: bool = False  # drop the last, partial batch: several replicas cannot split an uneven one

    @property
    def examples(self) -> int:
        return self.shards.examples(self.kind)

    @property
    def steps(self) -> int:
        return self.examples // self.batch_size if self.whole_batches else -(-self.examples // self.batch_size)

    def batches(self, epoch: int) -> Iterator[dict[str, np.ndarray]]:
        rng = np.random.default_rng([self.seed, epoch])
        count = len(self.shards.counts[self.kind])
        order = rng.permutation(count) if self.shuffle else np.arange(count)
        group = self.shuffle_shards if self.shuffle else 1
        left: list[dict] = []  # examples short of a batch, carried into the next group so every batch but the last is full
        for start in range(0, count, group):
            examples = concatenated([self.shards.load(self.kind, int(i)) for i in order[start : start + group]])
            if self.shuffle:
                order_in_group = rng.permutation(len(next(iter(examples.values()))))
                examples = {key: value[order_in_group] for key, value in examples.items()}
            examples = concatenated([*left, examples])
            full = len(next(iter(examples.values()))) // self.batch_size * self.batch_size
            yield from batched({key: value[:full] for key, value in examples.items()}, self.batch_size)
            left = [{key: value[full:] for key, value in examples.items()}]
        if left and len(next(iter(left[0].values()))) and not self.whole_batches:
            yield left[0]


@dataclass
class DynamicMixtures:
    """Fresh mixtures every epoch from the prepared training utterances, drawn as the mix stage draws (distinct
    speakers or the named classes, random crops, uniform ratio), their examples computed on the fly. An epoch holds
    as many batches as the fixed training set, so the two regimes are compared epoch for epoch."""

    audio: list[np.ndarray]
    manifest: pd.DataFrame
    mix: dict  # the mix params section
    spectral: SpectralSettings
    chunk_frames: int
    segment_samples: int
    kind: str
    batch_size: int
    steps: int
    seed: int
    shuffle_batches: int = 8  # examples of this many batches are shuffled together, so one mixture's chunks spread
    threads: int = os.cpu_count() or 1  # mixtures whose examples are computed at once
    acoustics: Acoustics | None = None  # rooms and noise (mix.reverb, mix.noise), drawn once for the whole training

    def __post_init__(self):
        training = self.manifest[self.manifest["split"] == "train"]
        try:
            source_pools(training, "train", int(self.mix["n_sources"]), self.mix["classes"])
        except CocktailError as err:
            raise CocktailError(f"train.dynamic_mixing draws training mixtures itself, and {err}") from err

    def examples(self, mixture: tuple[np.ndarray, np.ndarray, dict]) -> list[dict]:
        """The examples of one drawn mixture, of the kind the model learns from only."""
        signal, sources, _ = mixture
        if self.kind == "waveform":
            return waveform_segments(signal, sources, self.segment_samples)
        return spectral_chunks(signal, sources, self.spectral.stft, self.spectral.vad_db, self.chunk_frames)

    def batches(self, epoch: int) -> Iterator[dict[str, np.ndarray]]:
        # Mixtures are drawn a few ahead of the shuffle, so each has its own generator: the batches do not depend on
        # how many threads there are.
        draws, shuffles, hearing = (np.random.default_rng([self.seed, DYNAMIC_MIXING_STREAM, epoch, part]) for part in (0, 1, 2))
        acoustics = None if self.acoustics is None else replace(self.acoustics, rng=hearing)
        mixtures = random_mixtures(
            self.audio, self.manifest, "train", sys.maxsize, int(self.mix["n_sources"]), float(self.mix["ratio_db"]),
            self.mix["length"], self.spectral.sample_rate, draws, self.mix["classes"], skip_silent=True, acoustics=acoustics,
        )
        pool: list[dict] = []
        produced = 0
        for examples in in_order_on_threads(self.examples, mixtures, self.threads):
            pool.extend(examples)
            if len(pool) < self.shuffle_batches * self.batch_size:
                continue
            order = shuffles.permutation(len(pool))
            full = len(pool) // self.batch_size * self.batch_size
            for start in range(0, full, self.batch_size):
                yield stack_examples([pool[i] for i in order[start : start + self.batch_size]])
                produced += 1
                if produced == self.steps:
                    return
            pool = [pool[i] for i in order[full:]]


def in_order_on_threads(function: Callable, items: Iterable, threads: int) -> Iterator:
    """`function` of each item, `threads` at a time, yielded in the items' order, so the result is the serial one.
    numpy releases the GIL in the STFT and the array copies, so the threads share the cores; only a few items are
    drawn ahead, so `items` may be endless."""
    with ThreadPoolExecutor(threads) as executor:
        pending: collections.deque = collections.deque()
        for item in items:
            pending.append(executor.submit(function, item))
            if len(pending) > 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def collective_friendly(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """8-bit targets (ideal masks, voice activity) as float32: Keras reduces a first batch across workers, and
    collective ops take no 8-bit types. The losses cast targets to float anyway."""
    return tuple(a.astype(np.float32) if a.dtype == np.uint8 else a for a in arrays)


def as_dataset(source, pairs: Pairs) -> tf.data.Dataset:
    """A tf.data pipeline over `source.batches(epoch)`, prepared one batch ahead in a background thread; every new
    pass (Keras starts one per epoch) is the next epoch. Its length is known, so progress bars show it."""
    passes = iter(range(sys.maxsize))

    def generate():
        try:
            for batch in source.batches(next(passes)):
                yield collective_friendly(pairs(batch))
        except CocktailError as err:
            RAISED_IN_PIPELINE[id(source)] = err
            raise

    inputs, targets = collective_friendly(pairs(next(source.batches(0))))
    signature = tuple(tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in (inputs, targets))
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(source.steps)).prefetch(1)


def training_sources(
    kind: str, features_dir: str, prepared_dir: str, spectral: SpectralSettings, batch_size: int, seed: int, train: dict,
    batch_key: str, features: dict, mix: dict, noise: dict, replicas: int = 1,
):
    """(training, validation) batch sources as the `train` params section asks: the features stage's fixed training
    set, or dynamic mixing (`train.dynamic_mixing`, drawn as the `features`, `mix` and `noise` sections say); validation is always the mix stage's fixed set. With several replicas every batch is whole, so that each
    replica gets an equal share. `batch_key` is the params key batch_size came from, for messages."""
    dynamic = checked_choice("train.dynamic_mixing", train["dynamic_mixing"], (True, False))
    if dynamic and load_mix_list(prepared_dir) is not None:
        raise CocktailError(
            "params key 'train.dynamic_mixing' is true, but this corpus lists its own mixtures (wsj0.lists or a premixed "
            "corpus), which dynamic mixing would replace. Set train.dynamic_mixing: false."
        )
    whole = replicas > 1
    if batch_size % replicas:
        raise CocktailError(
            f"params key '{batch_key}' is {batch_size}: training on {replicas} replicas splits every batch "
            f"among them, so it must be a multiple of {replicas}."
        )
    train_shards = FeatureShards.open(f"{features_dir}/train")
    valid = ShardedExamples(FeatureShards.open(f"{features_dir}/valid"), kind, batch_size, seed, shuffle=False, whole_batches=whole)
    for split, shards in (("train", train_shards), ("valid", valid.shards)):
        if whole and shards.examples(kind) < batch_size:
            raise CocktailError(
                f"the {split} split holds {shards.examples(kind)} {kind} examples, fewer than one whole batch for {replicas} "
                f"replicas ('{batch_key}' = {batch_size}): lower the batch size or raise mix.{split}_mixtures."
            )
    if not dynamic:
        shuffle_shards = train["shuffle_shards"]
        fixed = ShardedExamples(train_shards, kind, batch_size, seed, shuffle=True, shuffle_shards=shuffle_shards, whole_batches=whole)
        return fixed, valid
    audio, manifest = load_prepared(prepared_dir)
    steps = train_shards.examples(kind) // batch_size if whole else -(-train_shards.examples(kind) // batch_size)
    fresh = DynamicMixtures(
        audio, manifest, mix, spectral, int(features["chunk_frames"]),
        int(round(float(features["segment_seconds"]) * spectral.sample_rate)), kind, batch_size, steps, seed,
        acoustics=split_acoustics(mix, noise, "train", int(mix["n_sources"]), spectral.sample_rate, seed),
    )
    return fresh, valid


@contextlib.contextmanager
def pipeline_errors_raised(*sources):
    """tf.data turns an exception in a Python generator into an OpError whose text is a traceback: re-raise the
    project's own error instead, so a shard damaged mid-training still ends the stage with one `error:` line."""
    try:
        yield
    except tf.errors.OpError as err:
        for source in sources:
            if id(source) in RAISED_IN_PIPELINE:
                raise RAISED_IN_PIPELINE.pop(id(source)) from err
        raise
