"""Training batches read shard by shard, or mixed afresh every epoch, through tf.data."""

import itertools
import time

import numpy as np
import pandas as pd
import pytest

from cocktail.data.datasets import DynamicMixtures, ShardedExamples, as_dataset, in_order_on_threads, pipeline_errors_raised
from cocktail.data.features import FeatureShards, write_features
from cocktail.dsp.spectral import Normaliser, SpectralSettings
from cocktail.dsp.stft import StftConfig
from cocktail.errors import CocktailError
from cocktail.models.base import embedding_pairs, waveform_pairs

SR = 8000
CFG = StftConfig()
SPECTRAL = SpectralSettings(CFG, 40.0, SR, Normaliser(np.zeros(129, np.float32), np.ones(129, np.float32)))
MIX = {"n_sources": 2, "ratio_db": 5, "length": 0.5, "classes": []}


def corpus(rng, n_speakers=4, per_speaker=3):
    """Noise bursts of different lengths, one row per utterance, all in the training split."""
    audio, rows = [], []
    for s in range(n_speakers):
        for u in range(per_speaker):
            audio.append((0.1 * rng.standard_normal(int(rng.integers(3000, 9000)))).astype(np.float32))
            rows.append({"utt_id": f"u{len(rows):06d}", "speaker": f"spk{s}", "origin": f"spk{s}/{u}.wav", "split": "train",
                         "split_by": "speakers"})
    return audio, pd.DataFrame(rows)


@pytest.fixture
def shards(rng, tmp_path):
    """Six mixtures' examples in shards of a few kilobytes, so an epoch spans many of them."""
    mixtures = [(0.1 * rng.standard_normal((2, n))).astype(np.float32) for n in (7000, 3000, 900, 5000, 4000, 6500)]
    write_features(((s.sum(axis=0), s) for s in mixtures), tmp_path / "train", CFG, 40.0, 20, 1600, 30_000)
    return FeatureShards.open(tmp_path / "train")


def identities(batches) -> list[bytes]:
    return [example.tobytes() for batch in batches for example in batch["log_mag"]]


def test_every_epoch_sees_every_example_once_in_a_new_order(shards):
    source = ShardedExamples(shards, "spectral", batch_size=4, seed=0, shuffle=True, shuffle_shards=2)
    first, second = identities(source.batches(0)), identities(source.batches(1))
    assert len(first) == shards.examples("spectral") and sorted(first) == sorted(second)
    assert first != second, "the order changes from epoch to epoch"
    assert first == identities(source.batches(0)), "and is seeded"
    assert len(list(source.batches(0))) == source.steps


def test_validation_reads_in_order(shards):
    source = ShardedExamples(shards, "spectral", batch_size=4, seed=0, shuffle=False)
    in_order = np.concatenate([shards.load("spectral", i)["log_mag"] for i in range(len(shards.counts["spectral"]))])
    assert identities(source.batches(0)) == [example.tobytes() for example in in_order]


def test_dataset_knows_its_length_and_moves_to_the_next_epoch_on_each_pass(shards):
    source = ShardedExamples(shards, "spectral", batch_size=4, seed=0, shuffle=True)
    dataset = as_dataset(source, lambda batch: embedding_pairs(batch, SPECTRAL.normaliser))
    assert int(dataset.cardinality()) == source.steps
    passes = [[x.numpy().tobytes() for x, _ in dataset] for _ in range(2)]
    assert len(passes[0]) == source.steps and passes[0] != passes[1]
    x, y = next(iter(dataset))
    assert x.shape[1:] == (20, 129) and y.shape[1:] == (20, 129, 3)


def dynamic(rng, kind="spectral", steps=5, seed=0, **mix):
    audio, manifest = corpus(rng)
    return DynamicMixtures(audio, manifest, {**MIX, **mix}, SPECTRAL, 20, 1600, kind, 4, steps, seed)


def test_dynamic_mixing_draws_fresh_mixtures_every_epoch_and_fills_the_epoch(rng):
    source = dynamic(rng)
    first, second = list(source.batches(0)), list(source.batches(1))
    assert len(first) == len(second) == 5 and all(len(b["log_mag"]) == 4 for b in first)
    assert identities(first) != identities(second)
    assert identities(first) == identities(source.batches(0)), "seeded: the same epoch is the same draw"
    waves = list(dynamic(np.random.default_rng(0), kind="waveform").batches(0))
    x, y = waveform_pairs(waves[0], SPECTRAL.normaliser)
    assert x.shape == (4, 1600) and y.shape == (4, 2, 1600)
    np.testing.assert_allclose(y.sum(axis=1), x, atol=1e-5)


def test_dynamic_mixing_gives_the_same_batches_on_any_number_of_threads():
    batches = {}
    for threads in (1, 3):
        source = dynamic(np.random.default_rng(0), kind="waveform")
        source.threads = threads
        batches[threads] = list(source.batches(2))
    assert len(batches[1]) == 5
    for one, three in zip(batches[1], batches[3]):
        assert set(one) == {"mix_wave", "src_wave"}, "only the examples the model learns from are computed"
        for key in one:
            np.testing.assert_array_equal(one[key], three[key])


def test_in_order_on_threads_keeps_order_and_stops_on_an_endless_input():
    def slow_square(i):
        time.sleep(0.002 * (i % 3))
        return i * i

    squares = in_order_on_threads(slow_square, itertools.count(), 2)
    assert list(itertools.islice(squares, 20)) == [i * i for i in range(20)]
    squares.close()


def test_dynamic_mixing_refuses_too_few_training_speakers(rng):
    with pytest.raises(CocktailError, match="train.dynamic_mixing.*fewer than mix.n_sources = 5"):
        dynamic(rng, n_sources=5)


def test_an_error_inside_the_pipeline_surfaces_as_the_project_error(shards):
    """A shard damaged after training started: the stage must still end with one clear message, not TF's traceback."""
    source = ShardedExamples(shards, "spectral", batch_size=4, seed=0, shuffle=False)
    dataset = as_dataset(source, lambda batch: embedding_pairs(batch, SPECTRAL.normaliser))
    second = shards.directory / "spectral-00001.npz"
    second.write_bytes(second.read_bytes()[:100])
    with pytest.raises(CocktailError, match="spectral-00001.npz is truncated"), pipeline_errors_raised(source):
        for _ in dataset:
            pass


def test_several_replicas_get_whole_batches_only(shards):
    source = ShardedExamples(shards, "spectral", batch_size=4, seed=0, shuffle=True, shuffle_shards=2, whole_batches=True)
    batches = list(source.batches(0))
    assert len(batches) == source.steps == shards.examples("spectral") // 4
    assert all(len(batch["log_mag"]) == 4 for batch in batches)


def test_shuffling_keeps_every_example_whole(rng, tmp_path):
    """Inputs and targets move together: each mixture segment still sums to its sources after shuffling."""
    mixtures = [(0.1 * rng.standard_normal((2, n))).astype(np.float32) for n in (7000, 3000, 5000, 4000)]
    write_features(((s.sum(axis=0), s) for s in mixtures), tmp_path / "train", CFG, 40.0, 20, 400, 30_000)
    source = ShardedExamples(FeatureShards.open(tmp_path / "train"), "waveform", 4, seed=0, shuffle=True, shuffle_shards=2)
    for batch in source.batches(0):
        np.testing.assert_allclose(batch["src_wave"].sum(axis=1), batch["mix_wave"], atol=1e-6)
    spectral = ShardedExamples(FeatureShards.open(tmp_path / "train"), "spectral", 4, seed=0, shuffle=True, shuffle_shards=2)
    for batch in spectral.batches(0):
        np.testing.assert_array_equal(batch["ibm"].sum(axis=-1) == 1, batch["src_mag"].sum(axis=-1) > 0)
