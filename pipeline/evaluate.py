"""evaluate: separate whole test mixtures with the trained model and score them (BSS Eval v3, SI-SNR, PESQ, STOI, ESTOI)."""

from cocktail.startup import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras  # noqa: F401  (loaded here, where its start-up lines are held back)

import numpy as np

from cocktail.atomic import save_csv, save_json
from cocktail.models import architecture_section
from cocktail.scoring.evaluation import (
    evaluation_mixtures,
    evaluation_separator,
    fit_source_count,
    mask_accuracies,
    separate_all,
    write_examples,
)
from cocktail.scoring.scores import score_all, summarise
from cocktail.stage import run_stage

PATHS = {
    "model": "the trained model's folder", "prepared": "the prepare stage's folder", "test": "the mix stage's test split",
    "metrics": "the summary JSON it writes", "per_source": "the per-source CSV it writes",
    "examples": "the folder of example separations it writes",
}


def main(params, paths):
    name, rate, evaluate = params["model"], int(params["corpus.sample_rate"]), params.section("evaluate")
    architecture_section(params, name)
    separator, n_sources = evaluation_separator(paths.model, name, rate, evaluate)
    clustering = separator.clustering
    mixtures = evaluation_mixtures(
        paths.test, paths.prepared, params.section("mix"), params.section("noise"), evaluate, n_sources, rate, int(params["seed"])
    )
    found = separate_all(separator, mixtures, f"separating ({name}, {n_sources} sources)", n_sources)
    separations = [fit_source_count(s, m, n_sources) for s, m in zip(found, mixtures.mixtures)]
    estimates = [s.sources for s in separations]
    per_source = score_all(mixtures, estimates, separator.spectral.sample_rate, "scoring")
    extra = {"model": name, "test_mixtures": len(mixtures), "n_sources": n_sources, "clustering": clustering}
    if clustering == "meanshift":
        extra["source_count_accuracy"] = float(np.mean([len(s.sources) == n_sources for s in found]))
    if separator.inference.gives_masks:
        extra["mask_accuracy"] = float(np.nanmean(mask_accuracies(mixtures, separations, per_source, separator.spectral)))
    metrics = summarise(per_source, extra)
    save_csv(paths.per_source, per_source)
    write_examples(paths.examples, mixtures, estimates, per_source, int(evaluate["examples"]), rate)
    save_json(paths.metrics, metrics)
    print({k: metrics[k] for k in ("gnsdr", "gsir", "gsar", "sdri", "si_snri", "pesq_i", "stoi_i", "estoi_i", "pesq_unscored")})


if __name__ == "__main__":
    run_stage(main, __doc__, PATHS)
