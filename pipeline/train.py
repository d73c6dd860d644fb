"""train: fit the architecture named by `model` with its own params section; keep the best weights."""

import keras

from cocktail.features import SpectralSettings
from cocktail.mixing import MixtureSet
from cocktail.models import architecture_section, get_architecture
from cocktail.separation import Separator
from cocktail.shards import load_npz, save_json
from cocktail.stage import run_stage
from cocktail.training import TrainConfig, fit

FEATURES = "data/features"
VALID_MIXTURES = "data/mixtures/valid.npz"
MODEL_DIR = "model"
LIVE_DIR = "dvclive"
METRICS = "metrics/train.json"


def main(params):
    name = params["model"]
    architecture = get_architecture(name)
    section = architecture_section(params, name)
    cfg = TrainConfig.from_params(params.section("train"), section, int(params["seed"]))
    spectral = SpectralSettings.load(f"{FEATURES}/spectral.json")
    train_pairs = architecture.training_pairs(load_npz(f"{FEATURES}/train.npz"), spectral.normaliser)
    valid_pairs = architecture.training_pairs(load_npz(f"{FEATURES}/valid.npz"), spectral.normaliser)
    valid_mixtures = MixtureSet.load(VALID_MIXTURES).head(cfg.valid_mixtures)
    keras.utils.set_random_seed(cfg.seed)
    separator = Separator.create(name, section, spectral, valid_mixtures.n_sources)
    print(f"model {name}: {separator.model.count_params():,} parameters, {len(train_pairs[0])} training examples")
    summary = fit(separator, architecture.loss(section), train_pairs, valid_pairs, valid_mixtures, cfg, LIVE_DIR)
    separator.save(MODEL_DIR)
    save_json(METRICS, {"model": name, **summary})


if __name__ == "__main__":
    run_stage(main, __doc__)
