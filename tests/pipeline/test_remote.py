"""Sharing an experiment as a team does: a DVC remote (a local folder here, S3 or SSH for a team) and a bare git
repository as `origin`. Clone A runs an experiment and pushes it; clone B pulls it, reads its metrics, applies it
and separates a recording with its model, training nothing.

Its experiment (dprnn) is also the suite's `dvc exp run` of a time-domain model: test_pipeline_e2e runs one for each
other inference kind."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from conftest import run
from test_pipeline_e2e import ran_stages

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the embedded corpus")


def test_an_experiment_travels_from_one_clone_to_another(project, tmp_path):
    origin, storage, a, b = (tmp_path / name for name in ("origin.git", "storage", "a", "b"))
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    shutil.copytree(project, a, symlinks=True)
    run(["git", "checkout", "-q", "--", "."], a)
    run(["git", "remote", "add", "origin", str(origin)], a)
    run(["dvc", "remote", "add", "-d", "team", str(storage)], a)
    run(["git", "commit", "-qam", "the team's remote"], a)
    run(["git", "push", "-q", "origin", "HEAD:main"], a)
    run(["dvc", "push", "-q"], a)

    result = run(["dvc", "exp", "run", "-n", "dual-path", "-S", "model=dprnn"], a)
    assert ran_stages(result) == {"train", "evaluate", "report"}
    run(["dvc", "exp", "push", "origin", "dual-path"], a)

    run(["git", "clone", "-q", "-b", "main", str(origin), str(b)], tmp_path)
    run(["cocktail", "review", "main", "dual-path", "-o", "review"], b)  # fetches the experiment's refs from origin
    assert "| main (convtasnet) |" in (b / "review/review.md").read_text()
    run(["dvc", "exp", "pull", "origin", "dual-path"], b)  # and its cached outputs from the DVC remote
    run(["dvc", "pull", "-q"], b)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], b).stdout)
    names = [exp["name"] for rev in shown for exp in (rev.get("experiments") or [])]
    assert "dual-path" in names, names
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", "dual-path", "--json"], b).stdout)
    assert {"gnsdr", "gsir", "gsar", "sdri", "si_snri"} <= set(diff["metrics/eval.json"])
    assert diff["metrics/train.json"]["model"]["new"] == "dprnn"

    run(["dvc", "exp", "apply", "dual-path"], b)
    train = json.loads((b / "metrics/train.json").read_text())
    assert train["model"] == "dprnn" and train["parameters"] > 0
    assert train["train_seconds"] > 0 and train["real_time_factor"] > 0
    scores = json.loads((b / "metrics/eval.json").read_text())
    assert scores["model"] == "dprnn" and "mask_accuracy" not in scores, "a time-domain model gives no masks to score"
    assert (b / "model/config.json").is_file(), "the experiment's model comes from the remote"
    assert "Running stage" not in run(["dvc", "repro", "--dry"], b).stdout, "nothing to retrain"
    t = np.arange(3 * 8000) / 8000
    sf.write(b / "talk.wav", (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1100 * t)).astype(np.float32), 8000)
    run(["cocktail", "separate", "talk.wav", "-o", "out", "-q"], b)
    assert sorted(p.name for p in (b / "out").iterdir()) == ["talk_s1.wav", "talk_s2.wav"]
