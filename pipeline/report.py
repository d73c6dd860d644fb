"""report: a static page (report/index.html) to see and hear what the current model does, beside the oracle."""

from cocktail.startup import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras  # noqa: F401  (loaded here, where its start-up lines are held back)

from cocktail.models import architecture_section
from cocktail.report.page import Scores, write_report
from cocktail.scoring.evaluation import evaluation_mixtures, evaluation_separator
from cocktail.stage import run_stage

PATHS = {
    "model": "the trained model's folder", "prepared": "the prepare stage's folder", "test": "the mix stage's test split",
    "metrics": "the folder of the evaluate, oracle and train metrics", "curves": "dvclive's folder of training curves",
    "out": "the report folder it writes",
}


def main(params, paths):
    name, rate, evaluate, mix, seed = params["model"], int(params["corpus.sample_rate"]), params.section("evaluate"), params.section("mix"), int(params["seed"])
    architecture_section(params, name)
    separator, n_sources = evaluation_separator(paths.model, name, rate, evaluate)
    settings = params.section("report")
    mixtures = evaluation_mixtures(paths.test, paths.prepared, mix, params.section("noise"), evaluate, n_sources, rate, seed)
    scores = Scores.load(paths.metrics, paths.curves)
    write_report(
        paths.out, separator, mixtures.head(int(settings["examples"])), n_sources, scores, int(mix["n_sources"]),
        int(settings["scatter_points"]), seed,
    )
    print(f"wrote {paths.out}/index.html: open it in a browser")


if __name__ == "__main__":
    run_stage(main, __doc__, PATHS)
