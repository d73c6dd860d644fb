"""fit() as the train stage calls it, for the architectures the end-to-end runs do not train: batches streamed from
feature shards through tf.data, a validation separation each epoch, dvclive's curves, and the summary that
metrics/train.json holds (parameters, time, real-time factor); with two sources and with three."""

import functools
import math

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from cocktail.data.datasets import training_sources
from cocktail.data.features import write_features
from cocktail.data.mixture_set import MixtureSet
from cocktail.engine.training import CosineDecay, TrainConfig, fit, real_time_factor
from cocktail.errors import CocktailError
from cocktail.inference.separation import Separator
from cocktail.models import ARCHITECTURES
from conftest import SECTIONS, SPECTRAL

TRAIN = {
    "clip_norm": 5.0, "lr_patience": 2, "stop_patience": 5, "valid_mixtures": 2, "dynamic_mixing": False, "shuffle_shards": 2,
    "max_minutes": 0, "precision": "float32", "lr_schedule": "plateau",
}
CHUNK_FRAMES, SEGMENT = 20, 1600
EPOCHS = 2


def tone_mixtures(rng: np.random.Generator, count: int, n_sources: int, samples: int = 4000) -> MixtureSet:
    """Mixtures of tones at random pitches and levels in a little noise: enough for a model to learn from at once."""
    t = np.arange(samples) / SPECTRAL.sample_rate
    mixtures, sources = [], []
    for _ in range(count):
        tones = np.stack([
            rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * rng.uniform(150, 3500) * t) for _ in range(n_sources)
        ]) + 0.005 * rng.standard_normal((n_sources, samples))
        sources.append(tones.astype(np.float32))
        mixtures.append(tones.sum(axis=0).astype(np.float32))
    table = pd.DataFrame({"mix_id": [f"m{i}" for i in range(count)], "utt_ids": [""] * count})
    return MixtureSet(mixtures, sources, table)


def fit_on_tones(tmp_path, rng, name: str, valid_set: MixtureSet, train_section: dict, budget: dict):
    """fit() as the train stage calls it, on feature shards of six tone mixtures and `valid_set`: the batch source,
    the separator and the summary."""
    architecture, n_sources = ARCHITECTURES[name], valid_set.n_sources
    for split, mixtures in (("train", tone_mixtures(rng, 6, n_sources)), ("valid", valid_set)):
        write_features(
            zip(mixtures.mixtures, mixtures.sources), tmp_path / "features" / split, SPECTRAL.stft, SPECTRAL.vad_db,
            CHUNK_FRAMES, SEGMENT, 50_000,
        )
    section = {**SECTIONS[name], "epochs": EPOCHS, "batch_size": 4, **budget}
    cfg = TrainConfig.from_params(train_section, section, seed=0)
    train, valid = training_sources(
        architecture.inference.example_kind, str(tmp_path / "features"), str(tmp_path / "prepared"), SPECTRAL,
        cfg.batch_size, 0, train_section, f"{name}.batch_size", {}, {}, {},
    )
    separator, summary = fit(
        functools.partial(Separator.create, name, section, SPECTRAL, n_sources), architecture.loss(section), train, valid,
        functools.partial(architecture.training_pairs, normaliser=SPECTRAL.normaliser), valid_set, cfg,
        tf.distribute.get_strategy(), str(tmp_path / "dvclive"),
    )
    return train, separator, summary


@pytest.mark.parametrize(
    ("name", "n_sources"),
    [("ff", 2), ("lstm", 2), ("blstm_dc", 2), ("danet", 2), ("sepformer", 2), ("danet", 3), ("convtasnet", 3)],
)
def test_fit_trains_from_shards_and_reports_what_train_json_holds(name, n_sources, tmp_path, rng):
    valid_set = tone_mixtures(rng, 2, n_sources)
    train, separator, summary = fit_on_tones(tmp_path, rng, name, valid_set, TRAIN, {})
    assert len(train.shards.counts[ARCHITECTURES[name].inference.example_kind]) > 1, "several shards, read together"
    assert summary["epochs_run"] == EPOCHS and 1 <= summary["best_epoch"] <= EPOCHS
    assert summary["parameters"] > 0 and summary["train_seconds"] > 0
    assert np.isfinite(summary["best_val_loss"]) and np.isfinite(summary["best_val_si_snri"])
    curves = tmp_path / "dvclive" / "plots" / "metrics"
    for curve in ("train/loss.tsv", "eval/loss.tsv", "eval/si_snri.tsv"):
        assert len((curves / curve).read_text().splitlines()) == 1 + EPOCHS, curve
    separation = separator.separate(valid_set.mixtures[0])
    assert separation.sources.shape == valid_set.sources[0].shape
    assert real_time_factor(separator, valid_set, SPECTRAL.sample_rate) > 0


def test_cosine_decay_sets_each_steps_rate_from_the_start_to_zero_over_the_whole_budget():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), loss="mse")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    x, y = np.ones((20, 3), np.float32), np.ones((20, 1), np.float32)
    model.fit(x, y, batch_size=4, epochs=2, callbacks=[CosineDecay(0.01, 10), Record()], verbose=0)
    expected = [0.01 * 0.5 * (1 + math.cos(math.pi * step / 10)) for step in range(10)]
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    assert seen[0] == pytest.approx(0.01) and seen[5] == pytest.approx(0.005) and seen[-1] < 0.0003


def test_fit_with_the_cosine_schedule_ends_near_zero_and_an_unknown_schedule_is_refused(tmp_path, rng):
    with pytest.raises(CocktailError, match="params key 'train.lr_schedule' is 'step': use cosine or plateau"):
        TrainConfig.from_params({**TRAIN, "lr_schedule": "step"}, {**SECTIONS["ff"], "epochs": 1, "batch_size": 4}, seed=0)
    fit_on_tones(tmp_path, rng, "ff", tone_mixtures(rng, 2, 2), {**TRAIN, "lr_schedule": "cosine"}, {"learning_rate": 0.01})
    rates = [float(line.split()[1]) for line in (tmp_path / "dvclive/plots/metrics/train/learning_rate.tsv").read_text().splitlines()[1:]]
    assert len(rates) == EPOCHS and rates[0] < 0.01 and rates[-1] < 0.01 * 0.05
