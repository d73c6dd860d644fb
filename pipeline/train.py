"""train: fit the architecture named by `model` with its own params section; keep the best weights. Batches stream
from the features stage's shards (or are mixed afresh, `train.dynamic_mixing`) through tf.data, on the devices
`train.strategy` names."""

import functools

from cocktail.startup import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras

from cocktail.atomic import save_json
from cocktail.data.datasets import training_sources
from cocktail.data.mixture_set import MixtureSet
from cocktail.data.prepared_data import load_prepared
from cocktail.dsp.spectral import SpectralSettings
from cocktail.engine.distribute import output_path, training_strategy
from cocktail.engine.training import TrainConfig, fit, learn_without_gradients, real_time_factor
from cocktail.inference.separation import Separator
from cocktail.models import architecture_section, get_architecture
from cocktail.stage import run_stage

PATHS = {
    "prepared": "the prepare stage's folder", "features": "the features stage's folder", "valid": "the mix stage's valid split",
    "model": "the model folder it writes", "live": "dvclive's folder it writes (curves, metrics.json)",
    "metrics": "the training summary JSON it writes",
}


def main(params, paths):
    strategy = training_strategy(params["train.strategy"])  # first: multi_worker sets up its collectives at start
    name = params["model"]
    architecture = get_architecture(name)
    section = architecture_section(params, name)
    seed = int(params["seed"])
    spectral = SpectralSettings.load(f"{paths.features}/spectral.json")
    valid_mixtures = MixtureSet.load(paths.valid).head(int(params["train.valid_mixtures"]))
    keras.utils.set_random_seed(seed)
    if architecture.trained_by_gradient:
        cfg = TrainConfig.from_params(params.section("train"), section, seed)
        train, valid = training_sources(
            architecture.inference.example_kind, paths.features, paths.prepared, spectral, cfg.batch_size, seed,
            params.section("train"), f"{name}.batch_size", params.section("features"), params.section("mix"),
            params.section("noise"), strategy.num_replicas_in_sync,
        )
        regime = "mixed afresh every epoch" if params["train.dynamic_mixing"] else "from the features stage"
        print(f"model {name}: {train.steps} batches of {cfg.batch_size} per epoch, {regime}; "
              f"{strategy.num_replicas_in_sync} replica(s), {cfg.precision}")
        separator, summary = fit(
            functools.partial(Separator.create, name, section, spectral, valid_mixtures.n_sources), architecture.loss(section),
            train, valid, functools.partial(architecture.training_pairs, normaliser=spectral.normaliser), valid_mixtures, cfg,
            strategy, paths.live,
        )
    else:
        audio, manifest = load_prepared(paths.prepared)
        separator, summary = learn_without_gradients(architecture, section, spectral, audio, manifest, valid_mixtures, seed, paths.live)
    summary["real_time_factor"] = real_time_factor(separator, valid_mixtures, spectral.sample_rate)
    separator.save(output_path(paths.model, strategy))
    save_json(output_path(paths.metrics, strategy), {"model": name, **summary})
    print({k: summary[k] for k in ("train_seconds", "parameters", "best_val_si_snri", "real_time_factor")})


if __name__ == "__main__":
    run_stage(main, __doc__, PATHS)
