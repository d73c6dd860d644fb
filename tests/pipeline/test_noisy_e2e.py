"""The noisy-reverberant task end to end: `-S mix.noise=true -S mix.reverb=true` reruns from the mix stage on the
embedded corpus, the mixtures record their rooms and noise, and evaluate scores the same model on the clean test set."""

import json

import pandas as pd
from conftest import run

NOISY_REVERBERANT = ["-S", "mix.noise=true", "-S", "mix.reverb=true", "-S", "mix.rooms=2", "-S", "mix.rt60=[0.2,0.4]"]


def stages_run(stdout: str) -> set[str]:
    return {line.split("'")[1] for line in stdout.splitlines() if line.startswith("Running stage")}


def test_noisy_reverberant_task_end_to_end_and_scored_on_both_conditions(project):
    try:
        noisy_run = run(["dvc", "exp", "run", *NOISY_REVERBERANT], project)
        assert {"mix", "features", "train", "evaluate", "oracle", "report"} <= stages_run(noisy_run.stdout)
        table = pd.read_csv(project / "data/mixtures/test/mixtures.csv")
        assert table["rt60"].between(0.2, 0.4).all() and table["noise_snr_db"].between(-6, 3).all()
        assert table["noise"].str.match(r"(babble|coloured|modulated): ").all()
        noisy = json.loads((project / "metrics/eval.json").read_text())
        oracle = json.loads((project / "metrics/oracle.json").read_text())
        assert 1.0 <= noisy["pesq_mixture"] <= 4.6 and 0.0 < noisy["stoi_mixture"] < 1.0
        assert oracle["irm"]["si_snri"] > 0  # the ideal masks leave the noise and the reverberation out

        clean_run = run(["dvc", "exp", "run", *NOISY_REVERBERANT, "-S", "evaluate.noise=false", "-S", "evaluate.reverb=false"], project)
        assert stages_run(clean_run.stdout) == {"evaluate", "report"}, clean_run.stdout
        clean = json.loads((project / "metrics/eval.json").read_text())
        assert clean["pesq_mixture"] > noisy["pesq_mixture"] and clean["stoi_mixture"] > noisy["stoi_mixture"]
    finally:
        run(["git", "checkout", "--", "."], project)
        run(["dvc", "checkout", "-f", "-q"], project, check=False)
