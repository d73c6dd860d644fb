"""The train stage as users run it on several devices and machines, and in 16 bits: mixed precision, mirrored over
two logical CPUs, and two worker processes on localhost; each a short real training whose loss falls."""

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import restore, stage_command, write_params
from stage_server import FORKED_PYTHON, SOCKET_ENV


def epoch_losses(output: str) -> list[float]:
    return [float(loss) for loss in re.findall(r"epoch \d+/\d+: loss (\S+),", output)]


def ff_params(project: Path, tmp_path: Path, **overrides) -> Path:
    """ff learning fast enough for three tiny epochs to show it."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    return write_params(project, tmp_path, **{"model": "ff", "ff.epochs": 3, "ff.batch_size": 4, "ff.learning_rate": 0.01, **overrides})


def train_with(project: Path, tmp_path: Path, prefix: list[str], env: dict | None = None, **overrides) -> subprocess.Popen:
    """The train stage as its own process, as a user starts it on each machine of a cluster."""
    params = ff_params(project, tmp_path, **overrides)
    return subprocess.Popen(
        [*prefix, *stage_command(project, "train"), "--params", str(params)], cwd=project, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finished(processes: list[subprocess.Popen], timeout: float = 240) -> list[str]:
    """Every process's output; all are killed if one outlives the timeout (a worker whose peer died waits forever)."""
    outputs = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=timeout)
            assert process.returncode == 0, stderr[-3000:]
            outputs.append(stdout)
    finally:
        for process in processes:
            process.kill()
    return outputs


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_training_learns(project, stages, tmp_path, precision):
    try:
        result = stages("train", "--params", str(ff_params(project, tmp_path, **{"train.precision": precision})))
        assert result.returncode == 0, result.stderr[-3000:]
        output = result.stdout
        losses = epoch_losses(output)
        assert precision in output and len(losses) == 3
        assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    finally:
        restore(project)


TWO_LOGICAL_CPUS = (
    "import tensorflow as tf; cpu = tf.config.list_physical_devices('CPU')[0]; "
    "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)"
)


def test_mirrored_training_splits_batches_over_two_devices_and_learns(project, stages, tmp_path):
    """Two logical CPUs stand in for two GPUs: the stage itself runs, one replica per device."""
    try:
        params = ff_params(project, tmp_path, **{"train.strategy": "mirrored"})
        result = stages("train", "--params", str(params), setup=TWO_LOGICAL_CPUS)
        assert result.returncode == 0, result.stderr[-3000:]
        losses = epoch_losses(result.stdout)
        assert "2 replica(s)" in result.stdout and len(losses) == 3 and losses[-1] < losses[0], result.stdout
    finally:
        restore(project)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_workers_on_localhost_train_one_model(project, stage_server, tmp_path):
    """multi_worker as a user runs it: the same stage on every worker with its own TF_CONFIG; only the chief keeps it.
    Each worker is a child of the stage server (tests/stage_server.py), which has paid the imports."""
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    before = (project / "metrics/train.json").read_text()
    try:
        outputs = finished([
            train_with(
                project, tmp_path / f"worker{index}", FORKED_PYTHON,
                {SOCKET_ENV: stage_server, "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})},
                **{"train.strategy": "multi_worker"},
            )
            for index in range(2)
        ])
        losses = [epoch_losses(output) for output in outputs]
        assert all("2 replica(s)" in output for output in outputs)
        assert losses[0] == losses[1] and len(losses[0]) == 3 and losses[0][-1] < losses[0][0], losses
        written = json.loads((project / "metrics/train.json").read_text())
        assert written["model"] == "ff" and (project / "metrics/train.json").read_text() != before
    finally:
        restore(project)
