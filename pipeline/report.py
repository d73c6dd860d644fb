"""report: a static page (report/index.html) to see and hear what the current model does, beside the oracle."""

from cocktail.startup import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras  # noqa: F401  (loaded here, where its start-up lines are held back)

from cocktail.evaluation import evaluation_mixtures, evaluation_separator
from cocktail.report import Scores, write_report
from cocktail.stage import run_stage

MODEL_DIR = "model"
PREPARED = "data/prepared"
TEST_MIXTURES = "data/mixtures/test"
METRICS_DIR = "metrics"
CURVES_DIR = "dvclive/plots/metrics"
REPORT_DIR = "report"


def main(params):
    separator, n_sources = evaluation_separator(MODEL_DIR, params)
    settings = params.section("report")
    mixtures = evaluation_mixtures(TEST_MIXTURES, PREPARED, params, n_sources).head(int(settings["examples"]))
    scores = Scores.load(METRICS_DIR, CURVES_DIR)
    write_report(
        REPORT_DIR, separator, mixtures, n_sources, scores, int(params["mix.n_sources"]), int(settings["scatter_points"]), int(params["seed"])
    )
    print(f"wrote {REPORT_DIR}/index.html: open it in a browser")


if __name__ == "__main__":
    run_stage(main, __doc__)
