"""train: fit the architecture named by `model` with its own params section; keep the best weights."""

import keras

from cocktail.features import SpectralSettings
from cocktail.mixing import MixtureSet
from cocktail.models import architecture_section, get_architecture
from cocktail.prepared import load_prepared
from cocktail.separation import Separator
from cocktail.shards import load_npz, save_json
from cocktail.stage import run_stage
from cocktail.training import TrainConfig, fit, learn_without_gradients, real_time_factor

PREPARED = "data/prepared"
FEATURES = "data/features"
VALID_MIXTURES = "data/mixtures/valid.npz"
MODEL_DIR = "model"
LIVE_DIR = "dvclive"
METRICS = "metrics/train.json"


def main(params):
    name = params["model"]
    architecture = get_architecture(name)
    section = architecture_section(params, name)
    seed = int(params["seed"])
    spectral = SpectralSettings.load(f"{FEATURES}/spectral.json")
    valid_mixtures = MixtureSet.load(VALID_MIXTURES).head(int(params["train.valid_mixtures"]))
    keras.utils.set_random_seed(seed)
    if architecture.trained_by_gradient:
        cfg = TrainConfig.from_params(params.section("train"), section, seed)
        train_pairs = architecture.training_pairs(load_npz(f"{FEATURES}/train.npz"), spectral.normaliser)
        valid_pairs = architecture.training_pairs(load_npz(f"{FEATURES}/valid.npz"), spectral.normaliser)
        separator = Separator.create(name, section, spectral, valid_mixtures.n_sources)
        print(f"model {name}: {separator.parameter_count:,} parameters, {len(train_pairs[0])} training examples")
        summary = fit(separator, architecture.loss(section), train_pairs, valid_pairs, valid_mixtures, cfg, LIVE_DIR)
    else:
        audio, manifest = load_prepared(PREPARED)
        separator, summary = learn_without_gradients(architecture, section, spectral, audio, manifest, valid_mixtures, seed, LIVE_DIR)
    summary["real_time_factor"] = real_time_factor(separator, valid_mixtures, spectral.sample_rate)
    separator.save(MODEL_DIR)
    save_json(METRICS, {"model": name, **summary})
    print({k: summary[k] for k in ("train_seconds", "parameters", "best_val_si_snri", "real_time_factor")})


if __name__ == "__main__":
    run_stage(main, __doc__)
