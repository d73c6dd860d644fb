"""Where and in which precision Keras trains: mirrored and multi-worker runs learn (the workers in step, each on its own
share of every batch), mixed policies learn with float32 outputs, and wrong settings are refused naming the key.

Run as a script, this file is one training process: `mirrored` (two logical CPUs), or `worker OUT_DIR` (TF_CONFIG set)."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from stage_server import FORKED_PYTHON, SOCKET_ENV

from cocktail.engine.distribute import (
    PRECISIONS,
    any_worker,
    float32_outputs,
    is_chief,
    loss_scaled,
    output_path,
    set_precision,
    shard_by_element,
    training_strategy,
)
from cocktail.errors import CocktailError

SAMPLES, BATCH = 128, 8  # 16 global batches an epoch
TRUE_WEIGHTS = np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32)
RESULT = "RESULT "
WORKER_TIMEOUT = 120  # seconds for the slowest process; a worker whose peer died waits for it forever


def regression_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).standard_normal((SAMPLES, 4)).astype(np.float32)
    return x, (x @ TRUE_WEIGHTS)[:, None]


def generator_dataset() -> tf.data.Dataset:
    """Streamed from Python, as training data too large to hold in memory is."""
    x, y = regression_data()
    spec = (tf.TensorSpec((4,), tf.float32), tf.TensorSpec((1,), tf.float32))
    dataset = tf.data.Dataset.from_generator(lambda: zip(x, y), output_signature=spec)
    return shard_by_element(dataset.apply(tf.data.experimental.assert_cardinality(SAMPLES)).batch(BATCH))


def train(strategy, epochs: int, callbacks=(), validate: bool = False) -> tuple[keras.Model, dict]:
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = float32_outputs(keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)]))
        model.compile(optimizer=loss_scaled(keras.optimizers.Adam(0.1, clipnorm=1.0)), loss="mse")
    dataset = generator_dataset()
    history = model.fit(
        dataset, validation_data=dataset if validate else None, epochs=epochs, shuffle=False, callbacks=list(callbacks), verbose=0
    )
    return model, history.history


def step_overflowing_on_one_replica(strategy) -> dict:
    """One mixed_float16 step whose gradient overflowed on the second replica only."""
    set_precision("mixed_float16")
    with strategy.scope():
        weight = keras.Variable(1.0)
        optimizer = loss_scaled(keras.optimizers.SGD(0.1))
        optimizer.build([weight])

    @tf.function
    def step():
        def replica_step():
            overflowed = tf.distribute.get_replica_context().replica_id_in_sync_group == 1
            optimizer.apply([tf.where(overflowed, np.inf, 1.0)], [weight])

        strategy.run(replica_step)

    step()
    return {"weight": float(weight.numpy()), "loss_scale": float(optimizer.dynamic_scale.numpy())}


class BudgetRunningOutOnOneWorker(keras.callbacks.Callback):
    """A time budget, but deterministic: worker 1's clock runs out at the fourth step of the third epoch."""

    def __init__(self, strategy):
        super().__init__()
        self.strategy = strategy
        self.epoch = 0
        self.stopped_at = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        over = self.strategy.cluster_resolver.task_id == 1 and (self.epoch, batch) >= (2, 3)
        if any_worker(self.strategy, over):
            self.model.stop_training = True
            self.stopped_at = self.stopped_at or [self.epoch, batch]


def report(**result) -> None:
    print(RESULT + json.dumps(result), flush=True)


def run_mirrored() -> None:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = training_strategy("mirrored")
    losses = {}
    for precision in ("float32", "mixed_float16"):  # float16 gradients overflow on some replicas in the first steps
        set_precision(precision)
        _, history = train(strategy, epochs=3)
        losses[precision] = history["loss"]
    report(
        replicas=strategy.num_replicas_in_sync, chief=is_chief(strategy), losses=losses,
        overflow_step=step_overflowing_on_one_replica(strategy),
    )


def run_worker(out_dir: str) -> None:
    strategy = training_strategy("multi_worker")
    set_precision("mixed_float16")  # the hardest case: replicas must agree on skipping a step whose gradients overflowed
    features, _ = next(iter(strategy.experimental_distribute_dataset(generator_dataset())))
    # A plateau every epoch (min_delta beyond reach): every worker must halve the rate and stop at the same epoch.
    budget = BudgetRunningOutOnOneWorker(strategy)
    callbacks = [
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=0, min_delta=1e9),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, min_delta=1e9, restore_best_weights=True),
        budget,
    ]
    model, history = train(strategy, epochs=10, callbacks=callbacks, validate=True)
    weights = output_path(Path(out_dir) / "model.weights.h5", strategy)
    model.save_weights(weights)
    report(
        chief=is_chief(strategy), replicas=strategy.num_replicas_in_sync, weights=str(weights), stopped_at=budget.stopped_at,
        first_batch=strategy.experimental_local_results(features)[0].numpy().tolist(),
        **{key: [float(value) for value in values] for key, values in history.items()},
    )


def result_of(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.startswith(RESULT)]
    assert lines, output[-3000:]
    return json.loads(lines[-1][len(RESULT):])


def run_processes(commands: list[list[str]], envs: list[dict], log_dir: Path) -> list[tuple[int, str]]:
    """Start them all at once (workers wait for each other) and kill every one left once any fails or time runs out."""
    logs = [log_dir / f"process{i}.log" for i in range(len(commands))]
    processes = []
    for command, env, log in zip(commands, envs, logs):
        with log.open("w") as out:
            processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + WORKER_TIMEOUT
    try:
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            if any(p.returncode not in (None, 0) for p in processes):
                break
            time.sleep(0.2)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
    return [(process.returncode, log.read_text()) for process, log in zip(processes, logs)]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture(scope="module")
def mirrored_run(tmp_path_factory, stage_server):
    """One process, shared by the tests that read it: logical devices must be set before TensorFlow starts."""
    command = [*FORKED_PYTHON, __file__, "mirrored"]
    [(code, output)] = run_processes([command], [{**os.environ, SOCKET_ENV: stage_server}], tmp_path_factory.mktemp("mirrored"))
    assert code == 0, output[-3000:]
    return result_of(output)


@pytest.fixture(scope="module")
def worker_runs(tmp_path_factory, stage_server):
    """Two workers on localhost, started once for the tests that read them; returns (out_dir, [(exit code, output)])."""
    out_dir = tmp_path_factory.mktemp("cluster")
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    envs = [
        {**os.environ, SOCKET_ENV: stage_server, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})}
        for i in (0, 1)
    ]
    return out_dir, run_processes([[*FORKED_PYTHON, __file__, "worker", str(out_dir)]] * 2, envs, out_dir)


def test_mirrored_trains_one_replica_per_logical_device(mirrored_run):
    assert mirrored_run["replicas"] == 2 and mirrored_run["chief"]
    for loss in mirrored_run["losses"].values():
        assert np.all(np.isfinite(loss)) and loss[-1] < 0.5 * loss[0], mirrored_run["losses"]


def test_an_overflow_on_one_replica_skips_the_step_on_all(mirrored_run):
    assert mirrored_run["overflow_step"] == {"weight": 1.0, "loss_scale": 2.0**14}  # weight untouched; Keras starts at 2**15


def test_two_workers_train_in_step_to_a_falling_loss(worker_runs):
    _, runs = worker_runs
    for code, output in runs:
        assert code == 0, output[-3000:]
    results = [result_of(output) for _, output in runs]
    for result in results:
        assert result["replicas"] == 2
        assert result["loss"][-1] < 0.5 * result["loss"][0], result["loss"]
        assert len(result["loss"]) == 3  # early stop after patience 2, not the 10 epochs asked
        assert result["stopped_at"] == [2, 3]  # both workers, when the first of them ran out of time
        assert result["learning_rate"][-1] < result["learning_rate"][0]
    assert results[0]["loss"] == results[1]["loss"] and results[0]["val_loss"] == results[1]["val_loss"]


def test_each_worker_trains_on_its_own_share_of_every_batch(worker_runs):
    _, runs = worker_runs
    shares = [result_of(output)["first_batch"] for _, output in runs]
    x, _ = regression_data()
    np.testing.assert_allclose(np.concatenate(shares), x[:BATCH], rtol=1e-6)


def test_only_the_chief_keeps_what_it_writes(worker_runs):
    out_dir, runs = worker_runs
    chief, other = (result_of(output) for _, output in runs)
    assert (chief["chief"], other["chief"]) == (True, False)
    assert Path(chief["weights"]) == out_dir / "model.weights.h5" and Path(chief["weights"]).is_file()
    assert not Path(other["weights"]).is_relative_to(out_dir) and not Path(other["weights"]).exists()


@pytest.fixture
def restore_float32():
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("precision", PRECISIONS)
def test_each_precision_learns_with_float32_outputs(precision, restore_float32):
    set_precision(precision)
    model, history = train(training_strategy("default"), epochs=3)
    assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    assert dense.compute_dtype == {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}[precision]
    assert model.outputs[0].dtype == "float32" and model.predict(regression_data()[0][:4], verbose=0).dtype == np.float32
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (precision == "mixed_float16")


def test_a_float32_model_is_left_as_it_is():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    assert float32_outputs(model) is model


def test_a_single_process_is_the_chief_and_writes_where_asked(tmp_path):
    strategy = training_strategy("default")
    assert is_chief(strategy) and output_path(tmp_path / "model", strategy) == tmp_path / "model"


@pytest.mark.parametrize(
    ("call", "key"),
    [(lambda: training_strategy("horovod"), "train.strategy"), (lambda: set_precision("float16"), "train.precision")],
)
def test_unknown_names_are_refused_naming_the_key(call, key):
    with pytest.raises(CocktailError, match=key) as refused:
        call()
    assert "one of" in str(refused.value)


@pytest.mark.parametrize(
    "tf_config",
    [None, "", "{cluster: }", '{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}',
     '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', '{"cluster": {"worker": ["a:1"]}}'],
)
def test_multi_worker_needs_a_tf_config_naming_the_cluster_and_this_worker(tf_config, monkeypatch):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(CocktailError, match="train.strategy.*TF_CONFIG"):
        training_strategy("multi_worker")


if __name__ == "__main__":
    {"mirrored": run_mirrored, "worker": run_worker}[sys.argv[1]](*sys.argv[2:])
