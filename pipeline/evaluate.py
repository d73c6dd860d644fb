"""evaluate: separate whole test mixtures with the trained model and score them (BSS Eval v3, SI-SNR, PESQ, STOI, ESTOI)."""

from cocktail.startup import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras  # noqa: F401  (loaded here, where its start-up lines are held back)

import numpy as np

from cocktail.atomic import save_csv, save_json
from cocktail.evaluation import (
    evaluation_mixtures, evaluation_separator, fit_source_count, mask_accuracies, separate_all, write_examples,
)
from cocktail.scoring import score_all, summarise
from cocktail.stage import run_stage

MODEL_DIR = "model"
PREPARED = "data/prepared"
TEST_MIXTURES = "data/mixtures/test"
METRICS = "metrics/eval.json"
PER_SOURCE = "metrics/eval_per_source.csv"
EXAMPLES = "results/examples"


def main(params):
    separator, n_sources = evaluation_separator(MODEL_DIR, params)
    name, clustering = separator.architecture_name, separator.clustering
    mixtures = evaluation_mixtures(TEST_MIXTURES, PREPARED, params, n_sources)
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
    save_csv(PER_SOURCE, per_source)
    write_examples(EXAMPLES, mixtures, estimates, per_source, int(params["evaluate.examples"]), separator.spectral.sample_rate)
    save_json(METRICS, metrics)
    print({k: metrics[k] for k in ("gnsdr", "gsir", "gsar", "sdri", "si_snri", "pesq_i", "stoi_i", "estoi_i", "pesq_unscored")})


if __name__ == "__main__":
    run_stage(main, __doc__)
