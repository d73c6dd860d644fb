"""Scoring a separated test set: BSS Eval spread over every core, and the rounded summary the metrics JSON holds."""

import os

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from cocktail.data.mixture_set import MixtureSet
from cocktail.scoring.metrics import aggregate, score_mixture

# A worker process first loads museval, PESQ and STOI (about 3 s on 2 cores), then scores a mixture of a few seconds in
# about 0.3 s: it pays for itself from about this many mixtures.
MIXTURES_PER_WORKER = 16

UNSCORED = {  # measure column -> (name, what it needs): why a source's value is NaN
    "pesq": ("PESQ", "needs 0.25 s with an utterance in the reference and an estimate that is not all zeros"),
    "stoi": ("STOI and ESTOI", "need 30 frames (0.4 s) of speech in the reference"),
}


def scoring_workers(n_mixtures: int) -> int:
    """BSS Eval is the slow part: spread it over every core, where each worker gets enough mixtures to pay for its
    start; a few mixtures are scored in this process."""
    return max(1, min(os.cpu_count() or 1, n_mixtures // MIXTURES_PER_WORKER))


def score_all(mixtures: MixtureSet, estimates: list[np.ndarray], sample_rate: int, desc: str) -> pd.DataFrame:
    jobs = (delayed(score_mixture)(m, s, e, sample_rate) for m, s, e in zip(mixtures.mixtures, mixtures.sources, estimates))
    results = Parallel(n_jobs=scoring_workers(len(mixtures)), return_as="generator")(jobs)
    rows = []
    for mix_id, scores in tqdm(zip(mixtures.table["mix_id"], results), total=len(mixtures), desc=desc, unit="mix"):
        rows.extend({"mix_id": mix_id, **row} for row in scores)
    per_source = pd.DataFrame(rows)
    note_unscored(per_source, sample_rate)
    return per_source


def note_unscored(per_source: pd.DataFrame, sample_rate: int) -> None:
    """A source a perceptual measure could not score is left out of its means and only counted in the summary: the log
    names the mixture, so a short or silent test item can be found."""
    for measure, (name, needs) in UNSCORED.items():
        for mix_id, group in per_source[per_source[f"{measure}_i"].isna()].groupby("mix_id", sort=False):
            sources = ", ".join(f"s{source + 1}" for source in group["source"])
            seconds = group["samples"].iloc[0] / sample_rate
            print(
                f"note: {name} could not score {sources} of {mix_id} ({seconds:.2f} s; {name} {needs}): "
                f"left out of the {measure} means and counted in {measure}_unscored."
            )


def summarise(per_source: pd.DataFrame, extra: dict | None = None) -> dict:
    summary = {**aggregate(per_source), **(extra or {})}
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in summary.items()}
