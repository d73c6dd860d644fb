"""The trained model on whole test mixtures: set up as params ask, the test set, estimates fitted to the source count,
mask accuracy and example WAVs."""

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from cocktail.atomic import atomic_dir
from cocktail.data.mixing import mixtures_from_params, switch
from cocktail.data.mixture_set import MixtureSet
from cocktail.data.prepared_data import load_mix_list, load_prepared
from cocktail.dsp.audio import write_wav
from cocktail.dsp.masks import ideal_binary_mask, mask_accuracy, voice_activity_weights
from cocktail.dsp.spectral import SpectralSettings
from cocktail.dsp.stft import stft
from cocktail.errors import CocktailError
from cocktail.inference.separation import CLUSTERINGS, check_source_count, load_separator
from cocktail.models import names_where
from cocktail.models.base import Separation
from cocktail.params import SectionView, checked_choice


def separate_all(separator, mixtures: MixtureSet, desc: str, n_sources: int | None = None) -> list[Separation]:
    return [
        separator.separate(m, n_sources=n_sources, utt_ids=mixtures.utt_ids(i))
        for i, m in enumerate(tqdm(mixtures.mixtures, desc=desc, unit="mix"))
    ]


def scored_conditions(mix: SectionView, evaluate: dict) -> SectionView:
    """The mix settings of the test set scored: the mix stage's, with evaluate.noise / evaluate.reverb (when not null)
    in place of mix.noise / mix.reverb, so that a model is scored on the clean and the noisy-reverberant test set alike."""
    conditions = {}
    for key in ("noise", "reverb"):
        asked = checked_choice(f"evaluate.{key}", evaluate[key], (None, True, False), f" (null: as mix.{key} says)")
        conditions[key] = switch(mix, key) if asked is None else asked
    return mix.replaced(conditions)


def evaluation_mixtures(
    test_path: str, prepared_dir: str, mix: SectionView, noise: dict, evaluate: dict, n_sources: int, sample_rate: int, seed: int
) -> MixtureSet:
    """The mix stage's test set or, for another number of sources or other test conditions (evaluate.noise,
    evaluate.reverb), the same test utterances mixed that way (the `mix` and `noise` params sections)."""
    conditions = scored_conditions(mix, evaluate)
    if n_sources == int(mix["n_sources"]) and all(conditions[k] == mix[k] for k in ("noise", "reverb")):
        return MixtureSet.load(test_path)
    audio, manifest = load_prepared(prepared_dir)
    return mixtures_from_params(audio, manifest, conditions, noise, "test", n_sources, sample_rate, seed, load_mix_list(prepared_dir))


def fit_source_count(separation: Separation, mixture: np.ndarray, n_sources: int) -> Separation:
    """Mean-shift may find more or fewer sources than the mixture holds. Extra estimates with the least
    energy are dropped; a source it did not find is scored as the unprocessed mixture (NSDR 0)."""
    sources, masks = separation.sources, separation.masks
    if len(sources) > n_sources:
        keep = np.sort(np.argsort(-(sources**2).sum(axis=1))[:n_sources])
        sources, masks = sources[keep], None if masks is None else masks[keep]
    missing = n_sources - len(sources)
    if missing > 0:
        sources = np.concatenate([sources, np.repeat(mixture[None], missing, axis=0)])
        if masks is not None:
            masks = np.concatenate([masks, np.ones((missing, *masks.shape[1:]), masks.dtype)])
    return Separation(sources, masks)


def check_evaluation_settings(separator, n_sources: int, clustering: str) -> None:
    """Refuse settings a trained model cannot honour before anything is separated."""
    checked_choice("evaluate.clustering", clustering, CLUSTERINGS)
    name = separator.architecture_name
    if clustering != "kmeans" and not separator.inference.clusters:
        raise CocktailError(
            f"params key 'evaluate.clustering' is '{clustering}' but model '{name}' does not cluster embeddings: "
            f"set evaluate.clustering: kmeans or use one that does ({', '.join(names_where(lambda a: a.inference.clusters))})."
        )
    check_source_count(separator, n_sources, "params key 'evaluate.n_sources'", "set evaluate.n_sources: null or use one of them")


def evaluation_separator(model_dir: str, name: str, sample_rate: int, evaluate: dict):
    """The trained model set up as the `evaluate` params section asks (source count, clustering); refuses a model
    of another architecture than `name` (params key `model`) or rate, so metrics never describe a stale model."""
    separator = load_separator(model_dir)
    if separator.architecture_name != name:
        raise CocktailError(
            f"{model_dir}/ holds a '{separator.architecture_name}' model but params key 'model' is '{name}': "
            "run `dvc repro` so the train stage trains it first."
        )
    if separator.spectral.sample_rate != sample_rate:
        raise CocktailError(
            f"{model_dir}/ was trained at {separator.spectral.sample_rate} Hz but params key 'corpus.sample_rate' is {sample_rate}: "
            "run `dvc repro` so the model is trained on the mixtures it is scored on."
        )
    n_sources = int(evaluate["n_sources"] or separator.n_sources)
    check_evaluation_settings(separator, n_sources, evaluate["clustering"])
    separator.clustering = evaluate["clustering"]
    separator.meanshift_quantile = float(evaluate["meanshift_quantile"])
    separator.meanshift_min_share = float(evaluate["meanshift_min_share"])
    return separator, n_sources


def estimate_order(per_source: pd.DataFrame, mix_id: str) -> np.ndarray:
    """Index of the estimate matched to each reference of one mixture (the best permutation)."""
    return per_source[per_source["mix_id"] == mix_id].sort_values("source")["estimate"].to_numpy()


def mask_accuracies(mixtures: MixtureSet, separations: list[Separation], per_source: pd.DataFrame, spectral: SpectralSettings) -> list[float]:
    """Per mixture, the share of active bins where the estimated masks (matched to references) equal the IBM."""
    accuracies = []
    for mixture, sources, separation, mix_id in zip(mixtures.mixtures, mixtures.sources, separations, mixtures.table["mix_id"]):
        order = estimate_order(per_source, mix_id)
        ibm = ideal_binary_mask(np.abs(stft(sources, spectral.stft)))
        active = voice_activity_weights(np.abs(stft(mixture, spectral.stft)), spectral.vad_db)
        accuracies.append(mask_accuracy(separation.masks[order], ibm, active))
    return accuracies


def write_examples(directory: str | Path, mixtures: MixtureSet, estimates: list[np.ndarray], per_source: pd.DataFrame, count: int, sample_rate: int) -> None:
    """Mixture, references and estimates (in reference order) of the first `count` test mixtures."""
    with atomic_dir(directory) as tmp:
        for i in range(min(count, len(mixtures))):
            mix_id = mixtures.table.at[i, "mix_id"]
            order = estimate_order(per_source, mix_id)
            write_wav(tmp / f"{mix_id}_mixture.wav", mixtures.mixtures[i], sample_rate)
            for r, e in enumerate(order):
                write_wav(tmp / f"{mix_id}_s{r + 1}_reference.wav", mixtures.sources[i][r], sample_rate)
                write_wav(tmp / f"{mix_id}_s{r + 1}_estimate.wav", estimates[i][e], sample_rate)
