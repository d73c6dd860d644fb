"""Training shows a bar per epoch and one summary line when each epoch ends."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from cocktail.engine.training import EpochProgress, epoch_summary

SAMPLES, BATCH = 32, 8  # 4 steps per epoch


@pytest.fixture
def tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture
def data(rng):
    return rng.standard_normal((SAMPLES, 3)).astype(np.float32), rng.standard_normal((SAMPLES, 1)).astype(np.float32)


def bars(stderr: str, epoch: int) -> list[str]:
    """Every drawing of that epoch's bar (tqdm redraws over the line with carriage returns)."""
    return [part for part in re.split(r"[\r\n]", stderr) if part.startswith(f"epoch {epoch}/2:")]


def test_a_bar_per_epoch_with_the_steps_done_and_the_running_loss(tiny_model, data, capsys):
    x, y = data
    tiny_model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=BATCH, verbose=0, callbacks=[EpochProgress(log_interval=0)])
    out, err = capsys.readouterr()
    for epoch in (1, 2):
        drawn = bars(err, epoch)
        assert any("0/4" in bar for bar in drawn) and any("4/4" in bar and "loss=" in bar for bar in drawn), err
        assert any("validating" in bar for bar in drawn), err
    summaries = out.splitlines()
    assert [line.split(":")[0] for line in summaries] == ["epoch 1/2", "epoch 2/2"], out
    assert all("loss " in line and "val_loss " in line for line in summaries), out


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # how Keras finds the end of an epoch of unknown length
def test_the_bar_counts_steps_when_their_number_is_unknown(tiny_model, data, capsys):
    x, y = data
    signature = (tf.TensorSpec((None, 3), tf.float32), tf.TensorSpec((None, 1), tf.float32))
    batches = tf.data.Dataset.from_generator(lambda: ((x[i : i + BATCH], y[i : i + BATCH]) for i in range(0, SAMPLES, BATCH)),
                                             output_signature=signature)
    assert batches.cardinality() == tf.data.UNKNOWN_CARDINALITY
    tiny_model.fit(batches, epochs=2, shuffle=False, verbose=0, callbacks=[EpochProgress(log_interval=0)])
    out, err = capsys.readouterr()
    for epoch in (1, 2):
        assert any(re.match(r"epoch \d/2: 4 steps \[.*loss=", bar) for bar in bars(err, epoch)), err
    assert len(out.splitlines()) == 2, out


def test_the_summary_names_what_the_epoch_measured():
    line = epoch_summary({"loss": 0.25, "val_loss": 0.5, "val_si_snri": 6.123, "learning_rate": 0.0005})
    assert line == "loss 0.2500, val_loss 0.5000, val_si_snri 6.12 dB, learning rate 5.00e-04"
