"""oracle: the test set separated with ideal masks (IBM, IRM, Wiener-like): the ceiling for mask models."""

import pandas as pd

from cocktail.atomic import save_csv, save_json
from cocktail.mixture_set import MixtureSet
from cocktail.oracle import check_oracle_masks, oracle_estimates
from cocktail.scoring import score_all, summarise
from cocktail.spectral import SpectralSettings
from cocktail.stage import run_stage

TEST_MIXTURES = "data/mixtures/test"
SPECTRAL = "data/features/spectral.json"
METRICS = "metrics/oracle.json"
PER_SOURCE = "metrics/oracle_per_source.csv"


def main(params):
    spectral = SpectralSettings.load(SPECTRAL)  # the STFT and rate the models were given, from where the features stage fixed it
    check_oracle_masks(params["oracle.masks"])
    mixtures = MixtureSet.load(TEST_MIXTURES)
    results, tables = {}, []
    for mask in params["oracle.masks"]:
        per_source = score_all(mixtures, oracle_estimates(mixtures, mask, spectral.stft), spectral.sample_rate, f"oracle {mask}")
        results[mask] = summarise(per_source)
        tables.append(per_source.assign(mask=mask))
        print(mask, {k: results[mask][k] for k in ("gnsdr", "gsir", "gsar", "si_snri", "pesq_i", "stoi_i", "estoi_i")})
    save_csv(PER_SOURCE, pd.concat(tables))
    save_json(METRICS, results)


if __name__ == "__main__":
    run_stage(main, __doc__)
