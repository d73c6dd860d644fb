"""evaluate: separate whole test mixtures with the trained model and score them (BSS Eval v3, SI-SNR)."""

import numpy as np

from cocktail.errors import CocktailError
from cocktail.evaluation import mask_accuracies, score_all, separate_all, summarise, write_examples
from cocktail.mixing import MixtureSet
from cocktail.models import architecture_section
from cocktail.separation import Separator
from cocktail.shards import save_csv, save_json
from cocktail.stage import run_stage

MODEL_DIR = "model"
TEST_MIXTURES = "data/mixtures/test.npz"
METRICS = "metrics/eval.json"
PER_SOURCE = "metrics/eval_per_source.csv"
EXAMPLES = "results/examples"


def main(params):
    name = params["model"]
    architecture_section(params, name)
    separator = Separator.load(MODEL_DIR)
    if separator.architecture_name != name:
        raise CocktailError(
            f"{MODEL_DIR}/ holds a '{separator.architecture_name}' model but params key 'model' is '{name}': "
            "run `dvc repro` so the train stage trains it first."
        )
    mixtures = MixtureSet.load(TEST_MIXTURES)
    separations = separate_all(separator.separate, mixtures, f"separating ({separator.architecture_name})")
    estimates = [s.sources for s in separations]
    per_source = score_all(mixtures, estimates, "scoring")
    extra = {"model": separator.architecture_name, "test_mixtures": len(mixtures)}
    if separator.inference != "time":
        extra["mask_accuracy"] = float(np.nanmean(mask_accuracies(mixtures, separations, per_source, separator.spectral)))
    metrics = summarise(per_source, extra)
    save_csv(PER_SOURCE, per_source)
    write_examples(EXAMPLES, mixtures, estimates, per_source, int(params["evaluate.examples"]), separator.spectral.sample_rate)
    save_json(METRICS, metrics)
    print({k: metrics[k] for k in ("gnsdr", "gsir", "gsar", "sdri", "si_snri")})


if __name__ == "__main__":
    run_stage(main, __doc__)
