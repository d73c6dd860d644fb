"""Where and in which precision Keras trains: `train.strategy` picks a tf.distribute strategy, `train.precision` a
Keras dtype policy.

default: one device, as TensorFlow places it. mirrored: one replica per local GPU (the CPU when there is none), the
batch split among them. multi_worker: the same over several machines, each running the same `dvc repro train` (or
`python pipeline/train.py`) at the same time, on the same data and params, with TF_CONFIG naming the whole cluster and
its own index. On host1:

    export TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'

and on host2 the same with "index": 1. Worker 0 is the chief (unless the cluster names a "chief" task): only its model,
metrics and curves are kept; the others write theirs to a temporary folder (see `output_path`).

Create the strategy before any other TensorFlow call (multi_worker configures collective ops at program start), then
set the precision, then build the model (`float32_outputs`) and compile it (`loss_scaled`) inside `strategy.scope()`.
EarlyStopping and ReduceLROnPlateau decide alike on every worker, as the losses they read are summed over all of them; a
callback that decides on a worker's own evidence (its clock) must agree with the others through `any_worker`.
"""

import functools
import json
import os
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from cocktail.errors import CocktailError
from cocktail.params import checked_choice

STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
TF_CONFIG_EXAMPLE = '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'


def training_strategy(name: str) -> tf.distribute.Strategy:
    checked_choice("train.strategy", name, STRATEGIES)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    check_tf_config(os.environ.get("TF_CONFIG"))
    return KerasMultiWorkerStrategy()


class KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy as Keras 3's fit calls it (keras-team/keras#20585): before the first step it reduces
    a whole batch (a nest), every step it reduces scalar metrics along axis 0 or with no axis at all; TensorFlow's
    strategy takes none of these and fit fails at once."""

    def reduce(self, reduce_op, value, axis=None):
        reduce_one = super().reduce

        def reduce_tensor(tensor):
            rank = self.experimental_local_results(tensor)[0].shape.rank
            return reduce_one(reduce_op, tensor, axis if rank else None)

        return tf.nest.map_structure(reduce_tensor, value)


def check_tf_config(text: str | None) -> None:
    """Without TF_CONFIG TensorFlow trains a one-worker cluster without a word; with a malformed one it fails deep
    inside, without saying what to set."""
    advice = f"set it on every worker to the cluster and that worker's index, e.g. TF_CONFIG='{TF_CONFIG_EXAMPLE}'"
    if not text:
        raise CocktailError(f"train.strategy is multi_worker but TF_CONFIG is unset: {advice}.")
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task_type, index = config["task"]["type"], config["task"]["index"]
        valid = bool(workers) and isinstance(index, int) and 0 <= index < len(config["cluster"][task_type])
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise CocktailError(
            f"train.strategy is multi_worker but TF_CONFIG is not JSON with cluster.worker and a task (type, index) "
            f"in that cluster: {advice}."
        )


def set_precision(name: str) -> None:
    """Mixed policies compute in 16 bits and keep float32 weights. Set it before the model is built: layers take the
    policy then."""
    keras.mixed_precision.set_global_policy(checked_choice("train.precision", name, PRECISIONS))


def loss_scaled(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """The optimizer to compile with. Under mixed_float16 Keras wraps it in a LossScaleOptimizer itself, but one that
    decides from the first replica alone whether the gradients overflowed: with several replicas, another replica's
    overflow then reaches the weights as NaN (mirrored), or the workers part ways and wait for each other forever
    (multi_worker). Call it after `set_precision`."""
    if keras.mixed_precision.global_policy().name != "mixed_float16":
        return optimizer
    return ReplicaSafeLossScaleOptimizer(optimizer)


class ReplicaSafeLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Skips the step, and halves the loss scale, when the gradients of any replica overflowed."""

    def check_finite(self, grads):
        finite = super().check_finite(grads)
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return finite
        return context.all_reduce("SUM", tf.cast(tf.logical_not(finite), tf.float32)) == 0


def float32_outputs(model: keras.Model) -> keras.Model:
    """Losses, masks and separated sources want float32, not the 16-bit outputs of a mixed-precision model. The
    returned model shares the layers (and weights) of `model`; a float32 model is returned as it is."""
    if all(keras.backend.standardize_dtype(output.dtype) == "float32" for output in model.outputs):
        return model
    outputs = [keras.layers.Activation("linear", dtype="float32")(output) for output in model.outputs]
    return keras.Model(unwrap_single(model.inputs), unwrap_single(outputs), name=model.name)


def unwrap_single(tensors: list):
    """A model of one input or output takes or gives the tensor itself, not a list of one."""
    return tensors[0] if len(tensors) == 1 else tensors


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Asks the strategy rather than TF_CONFIG, so that a TF_CONFIG left over from a cluster run does not silently
    discard the outputs of a default or mirrored run."""
    return strategy.extended.should_checkpoint


def any_worker(strategy: tf.distribute.Strategy, flag: bool) -> bool:
    """Whether `flag` holds on any worker. A decision taken on one worker's own evidence (its clock, for a time budget)
    must be taken by all at once, or they part ways in the middle of a collective op and fail or wait forever. A
    collective itself: every worker must ask at the same step."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return flag
    return bool(strategy.reduce("SUM", tf.constant(float(flag)), axis=None) > 0)


def output_path(path: str | Path, strategy: tf.distribute.Strategy) -> Path:
    """Where this process writes `path`: there on the chief; on other workers, inside a temporary folder removed when
    the process exits. Every worker runs the same code, writes included (TensorFlow's advice, as saving may take part
    in collective ops), so the others need somewhere to write that nobody keeps."""
    path = Path(path)
    if is_chief(strategy):
        return path
    scratch = Path(worker_scratch().name) / path.relative_to(path.anchor)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    return scratch


@functools.cache
def worker_scratch() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="cocktail-worker-")


def shard_by_element(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Each worker keeps its own share of every global batch. A dataset built from a Python generator has no files to
    split among workers, so each worker runs the generator whole: every worker must produce the same batches in the
    same order (same data, same seed). AUTO does the same for a generator, but would switch to splitting by file, with
    its own failure modes, the day the data came from files."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
