"""The training engine shared by every architecture: Adam, the learning rate decayed along a cosine or halved on a
plateau, best weights kept, early stop, seeds fixed, per-epoch curves logged with DVCLive."""

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from dvclive.keras import DVCLiveCallback
from tqdm import tqdm

from cocktail.data.datasets import as_dataset, pipeline_errors_raised
from cocktail.data.mixture_set import MixtureSet
from cocktail.engine.distribute import any_worker, float32_outputs, loss_scaled, output_path, set_precision, shard_by_element
from cocktail.inference.separation import Separator
from cocktail.params import checked_choice
from cocktail.scoring.metrics import best_permutation_si_snr, si_snr_np
from dvclive import Live


LR_SCHEDULES = ("cosine", "plateau")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    learning_rate: float
    clip_norm: float
    lr_patience: int
    stop_patience: int
    valid_mixtures: int  # whole validation mixtures separated each epoch for SI-SNRi
    seed: int
    precision: str = "float32"
    max_minutes: float = 0.0  # wall-clock budget, so two regimes can be compared at the same training time; 0: none
    lr_schedule: str = "plateau"  # one of LR_SCHEDULES

    @classmethod
    def from_params(cls, section, model_section, seed: int) -> "TrainConfig":
        """Budget settings (epochs, batch, learning rate) are the model's own; the schedule is shared."""
        return cls(
            epochs=int(model_section["epochs"]),
            batch_size=int(model_section["batch_size"]),
            learning_rate=float(model_section["learning_rate"]),
            clip_norm=float(section["clip_norm"]),
            lr_patience=int(section["lr_patience"]),
            stop_patience=int(section["stop_patience"]),
            valid_mixtures=int(section["valid_mixtures"]),
            seed=seed,
            precision=str(section["precision"]),
            max_minutes=float(section["max_minutes"]),
            lr_schedule=checked_choice("train.lr_schedule", section["lr_schedule"], LR_SCHEDULES),
        )


def mean_si_snri(separator, mixtures: MixtureSet) -> float:
    """SI-SNR improvement over the mixture, best permutation, on whole utterances."""
    gains = []
    for i, (mixture, sources) in enumerate(zip(mixtures.mixtures, mixtures.sources)):
        _, values = best_permutation_si_snr(separator.separate(mixture, utt_ids=mixtures.utt_ids(i)).sources, sources)
        baseline = si_snr_np(np.repeat(mixture[None], len(sources), axis=0), sources)
        gains.extend(values - baseline)
    return float(np.mean(gains))


def real_time_factor(separator, mixtures: MixtureSet, sample_rate: int) -> float:
    """Seconds of computation per second of audio to separate whole mixtures (after one warm-up call)."""
    separator.separate(mixtures.mixtures[0], utt_ids=mixtures.utt_ids(0))
    start = time.perf_counter()
    for i, mixture in enumerate(mixtures.mixtures):
        separator.separate(mixture, utt_ids=mixtures.utt_ids(i))
    audio_seconds = sum(len(m) for m in mixtures.mixtures) / sample_rate
    return (time.perf_counter() - start) / audio_seconds


class ValidationSeparation(keras.callbacks.Callback):
    """Adds val_si_snri to the epoch logs: the loss alone does not say how well sources come apart."""

    def __init__(self, separator: Separator, mixtures: MixtureSet):
        super().__init__()
        self.separator = separator
        self.mixtures = mixtures

    def on_epoch_end(self, epoch, logs=None):
        logs["val_si_snri"] = mean_si_snri(self.separator, self.mixtures)
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


class EpochProgress(keras.callbacks.Callback):
    """A bar per epoch (steps done, running loss) and one summary line when it ends: Keras's verbose=2 says nothing
    until an epoch is over, which on a laptop takes minutes. Where stderr is not a terminal (a log file, `dvc queue
    logs`) the bar is redrawn only every `log_interval` seconds, so the log keeps a pulse without thousands of lines.
    Place it after the callbacks that add to the epoch's logs (val_si_snri), so that its summary shows them."""

    def __init__(self, log_interval: float = 30.0):
        super().__init__()
        self.log_interval = log_interval
        self.bar = None
        self.started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.bar = tqdm(
            total=self.params.get("steps"), desc=f"epoch {epoch + 1}/{self.params['epochs']}", unit=" steps", file=sys.stderr,
            leave=False, dynamic_ncols=True, mininterval=0.1 if sys.stderr.isatty() else self.log_interval,
        )
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if logs and "loss" in logs:
            self.bar.set_postfix_str(f"loss={logs['loss']:.4f}", refresh=False)
        self.bar.update(1)

    def on_test_begin(self, logs=None):
        if self.bar is not None:  # the validation pass and the SI-SNRi separations take a while too
            self.bar.set_postfix_str(", ".join(filter(None, [self.bar.postfix, "validating"])))

    def on_epoch_end(self, epoch, logs=None):
        self.bar.close()
        self.bar = None
        seconds = time.perf_counter() - self.started
        print(f"epoch {epoch + 1}/{self.params['epochs']}: {epoch_summary(logs or {})} ({seconds:.0f} s)", flush=True)


def epoch_summary(logs: dict) -> str:
    parts = [f"{key} {logs[key]:.4f}" for key in ("loss", "val_loss") if key in logs]
    if "val_si_snri" in logs:
        parts.append(f"val_si_snri {logs['val_si_snri']:.2f} dB")
    if "learning_rate" in logs:
        parts.append(f"learning rate {logs['learning_rate']:.2e}")
    return ", ".join(parts)


class CosineDecay(keras.callbacks.Callback):
    """The learning rate falls from `start` to zero along half a cosine over `total_steps`, step by step: a schedule
    that acts within a budget of a few epochs, where halving on a plateau never fires. Whether it ends better than a
    constant rate depends on the budget (README: "Where the default run's time goes" has both outcomes)."""

    def __init__(self, start: float, total_steps: int):
        super().__init__()
        self.start = start
        self.total_steps = max(total_steps, 1)
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        progress = min(self.step, self.total_steps) / self.total_steps
        self.model.optimizer.learning_rate = self.start * 0.5 * (1.0 + math.cos(math.pi * progress))
        self.step += 1


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `minutes` have passed, after the current step; Keras still validates that epoch, and the
    best epoch's weights are kept as always. Workers of a cluster stop together, when any one's clock says so."""

    def __init__(self, minutes: float, strategy: tf.distribute.Strategy):
        super().__init__()
        self.seconds = minutes * 60
        self.strategy = strategy
        self.start = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not self.seconds:
            return
        if any_worker(self.strategy, time.perf_counter() - self.start > self.seconds):
            self.model.stop_training = True


def fit(
    build: Callable[[], Separator], loss, train_source, valid_source, pairs, valid_mixtures: MixtureSet, cfg: TrainConfig,
    strategy: tf.distribute.Strategy, live_dir: str,
) -> tuple[Separator, dict]:
    """Build the model in the strategy's scope and precision, train it on the batch sources through tf.data and keep
    its best weights; returns the separator and a summary for metrics/train.json."""
    set_precision(cfg.precision)
    with strategy.scope():
        separator = build()
        model = float32_outputs(separator.model)
        model.compile(optimizer=loss_scaled(keras.optimizers.Adam(cfg.learning_rate, clipnorm=cfg.clip_norm)), loss=loss)
    train, valid = shard_by_element(as_dataset(train_source, pairs)), shard_by_element(as_dataset(valid_source, pairs))
    callbacks = [
        ValidationSeparation(separator, valid_mixtures),
        EpochProgress(),
        TimeBudget(cfg.max_minutes, strategy),
        CosineDecay(cfg.learning_rate, cfg.epochs * train_source.steps) if cfg.lr_schedule == "cosine"
        else keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=cfg.lr_patience, verbose=1),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.stop_patience, restore_best_weights=True, verbose=1),
    ]
    start = time.perf_counter()
    with Live(str(output_path(live_dir, strategy)), dvcyaml=False, save_dvc_exp=False) as live:
        callbacks.append(DVCLiveCallback(live=live))
        with pipeline_errors_raised(train_source, valid_source):
            history = model.fit(train, validation_data=valid, epochs=cfg.epochs, callbacks=callbacks, shuffle=False, verbose=0).history
    seconds = time.perf_counter() - start
    best = int(np.argmin(history["val_loss"]))
    summary = {
        "train_seconds": round(seconds, 1),
        "epochs_run": len(history["val_loss"]),
        "best_epoch": best + 1,
        "best_val_loss": float(history["val_loss"][best]),
        "best_val_si_snri": float(history["val_si_snri"][best]),
        "parameters": separator.parameter_count,
    }
    return separator, summary


def learn_without_gradients(architecture, section, spectral, audio, manifest, valid_mixtures: MixtureSet, seed: int, live_dir: str):
    """Models such as NMF learn in one pass; their validation SI-SNRi is logged as a one-step curve."""
    start = time.perf_counter()
    separator = architecture.learn(section, spectral, audio, manifest, valid_mixtures.n_sources, seed)
    seconds = time.perf_counter() - start
    val_si_snri = mean_si_snri(separator, valid_mixtures)
    with Live(live_dir, dvcyaml=False, save_dvc_exp=False) as live:
        live.log_metric("eval/si_snri", val_si_snri)
        live.next_step()
    summary = {"train_seconds": round(seconds, 1), "best_val_si_snri": val_si_snri, "parameters": separator.parameter_count}
    return separator, summary
