"""oracle: the test set separated with ideal masks (IBM, IRM, Wiener-like): the ceiling for mask models."""

import pandas as pd

from cocktail.atomic import save_csv, save_json
from cocktail.data.mixture_set import MixtureSet
from cocktail.dsp.spectral import SpectralSettings
from cocktail.scoring.oracle import check_oracle_masks, oracle_estimates
from cocktail.scoring.scores import score_all, summarise
from cocktail.stage import run_stage


def main(params, paths):
    spectral = SpectralSettings.load(paths.spectral)  # the STFT and rate the models were given, from where the features stage fixed it
    check_oracle_masks(params["oracle.masks"])
    mixtures = MixtureSet.load(paths.test)
    results, tables = {}, []
    for mask in params["oracle.masks"]:
        per_source = score_all(mixtures, oracle_estimates(mixtures, mask, spectral.stft), spectral.sample_rate, f"oracle {mask}")
        results[mask] = summarise(per_source)
        tables.append(per_source.assign(mask=mask))
        print(mask, {k: results[mask][k] for k in ("gnsdr", "gsir", "gsar", "si_snri", "pesq_i", "stoi_i", "estoi_i")})
    save_csv(paths.per_source, pd.concat(tables))
    save_json(paths.metrics, results)


if __name__ == "__main__":
    run_stage(main, __doc__, {
        "test": "the mix stage's test split", "spectral": "the features stage's spectral.json (the STFT the models see)",
        "metrics": "the summary JSON it writes", "per_source": "the per-source CSV it writes",
    })
