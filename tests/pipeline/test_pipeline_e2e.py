"""The project's first `dvc repro` (the session's tiny project, conftest.build_project): what it writes, what it
prints, and that a second run and a forced rerun of the data stages change nothing."""

import json

import yaml
from conftest import FIRST_REPRO, TINY, run

from cocktail.models import ARCHITECTURES
from cocktail.startup import STARTUP_CHATTER


def test_repro_writes_metrics_and_examples(project):
    metrics = json.loads((project / "metrics/eval.json").read_text())
    for key in ("gnsdr", "gsir", "gsar", "sdri", "si_snri"):
        assert isinstance(metrics[key], float)
    train = json.loads((project / "metrics/train.json").read_text())
    model = yaml.safe_load((project / "params.yaml").read_text())["model"]
    assert train["model"] == metrics["model"] == model and train["parameters"] > 0
    assert train["train_seconds"] > 0 and train["real_time_factor"] > 0
    assert ("mask_accuracy" in metrics) == ARCHITECTURES[model].inference.gives_masks
    oracle = json.loads((project / "metrics/oracle.json").read_text())
    assert oracle["ibm"]["gnsdr"] > 5.0, "ideal masks must separate far better than the mixture"
    assert sorted(p.name for p in (project / "results/examples").iterdir())[0].endswith("mixture.wav")
    assert (project / "dvclive/plots/metrics/eval/si_snri.tsv").is_file()
    assert (project / "report/index.html").is_file()


def test_stage_logs_hold_back_tensorflow_start_up_lines(project):
    log = (project.parent / FIRST_REPRO).read_text()
    assert "Running stage 'train'" in log and "epoch 1/" in log
    chatter = [line for line in log.splitlines() if STARTUP_CHATTER.match(line)]
    assert not chatter, chatter[:5]


def test_report_shows_every_example(project):
    page = (project / "report/index.html").read_text()
    examples = TINY["report.examples"]
    assert page.count("<section class='example'>") == examples
    assert len(list((project / "report/audio").glob("*_estimate.wav"))) == 2 * examples
    assert len(list((project / "report/figures").glob("*_spectrograms.png"))) == examples
    assert "oracle IBM" in page and "convtasnet" in page
    assert not list((project / "report/figures").glob("*_embeddings.png")), "Conv-TasNet has no embeddings to scatter"


def test_dvc_plots_show_curves_and_the_sdr_distribution(project):
    plots = json.loads(run(["dvc", "plots", "show", "--json"], project).stdout)["data"]
    assert set(plots) == {"SDR per test source (dB)", "Loss", "Validation SI-SNR improvement (dB)"}
    spec = plots["SDR per test source (dB)"][0]["content"]
    assert spec["layer"][0]["mark"]["type"] == "boxplot" and spec["encoding"]["y"]["field"] == "sdr"
    assert len(spec["data"]["values"]) == 2 * TINY["mix.test_mixtures"]


def test_second_repro_runs_nothing(project):
    result = run(["dvc", "repro"], project)
    assert "Running stage" not in result.stdout


def test_data_stages_are_deterministic(project):
    lock_before = (project / "dvc.lock").read_text()
    run(["dvc", "repro", "-f", "prepare", "mix", "features", "--single-item"], project)
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    before = yaml.safe_load(lock_before)
    for stage in ("prepare", "mix", "features"):
        assert lock["stages"][stage]["outs"] == before["stages"][stage]["outs"], stage
