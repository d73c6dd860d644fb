"""Scoring a separated test set: BSS Eval spread over every core, and the rounded summary the metrics JSON holds."""

import os

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from cocktail.metrics import aggregate, score_mixture
from cocktail.mixing import MixtureSet


def score_all(mixtures: MixtureSet, estimates: list[np.ndarray], desc: str) -> pd.DataFrame:
    """BSS Eval is the slow part: spread it over every core."""
    jobs = (delayed(score_mixture)(m, s, e) for m, s, e in zip(mixtures.mixtures, mixtures.sources, estimates))
    results = Parallel(n_jobs=os.cpu_count(), return_as="generator")(jobs)
    rows = []
    for mix_id, scores in tqdm(zip(mixtures.table["mix_id"], results), total=len(mixtures), desc=desc, unit="mix"):
        rows.extend({"mix_id": mix_id, **row} for row in scores)
    return pd.DataFrame(rows)


def summarise(per_source: pd.DataFrame, extra: dict | None = None) -> dict:
    summary = {**aggregate(per_source), **(extra or {})}
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in summary.items()}
