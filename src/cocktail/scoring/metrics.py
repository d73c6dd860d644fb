"""The one metrics module: SI-SNR (shared with the training loss), BSS Eval v3 via museval, PESQ, STOI and ESTOI,
and aggregates."""

import itertools
import warnings

import numpy as np
import pandas as pd
from pesq import BufferTooShortError, NoUtterancesError, pesq

from cocktail.constants import EPS
from cocktail.dsp.audio import resample

PESQ_MODES = {8000: "nb", 16000: "wb"}  # P.862 narrow band, P.862.2 wide band: the only rates PESQ is defined at
STOI_RATE = 10000  # pystoi's own rate: a signal given at it is not resampled again
STOI_MIN_SECONDS = 0.4  # pystoi needs 30 frames of 25.6 ms at half overlap; shorter, it fails or returns 1e-5
PERCEPTUAL = ("pesq", "stoi", "estoi")


def array_ops(array):
    """numpy for numpy arrays, keras.ops for tensors: one formula serves the scores and the training losses, and scoring
    (the oracle stage, BSS Eval's worker processes) never loads TensorFlow."""
    if isinstance(array, np.ndarray):
        return np
    import keras

    return keras.ops


def source_permutations(n_sources: int) -> list[tuple[int, ...]]:
    return list(itertools.permutations(range(n_sources)))


def per_order_means(pair, n_sources: int):
    """The one search over source orders (the losses' PIT and the scores' best order): pair[..., estimate, reference]
    -> (..., orders), the mean pairwise value of each order of source_permutations. Numpy or tensors alike."""
    return array_ops(pair).stack(
        [sum(pair[..., perm[r], r] for r in range(n_sources)) / n_sources for perm in source_permutations(n_sources)], axis=-1
    )


def si_snr(estimate, reference):
    """Scale-invariant SNR in dB over the last axis, on zero-mean signals; numpy or tensors alike."""
    ops = array_ops(estimate)
    estimate = estimate - ops.mean(estimate, axis=-1, keepdims=True)
    reference = reference - ops.mean(reference, axis=-1, keepdims=True)
    scale = ops.sum(estimate * reference, axis=-1, keepdims=True) / (ops.sum(reference**2, axis=-1, keepdims=True) + EPS)
    target = scale * reference
    noise = estimate - target
    ratio = (ops.sum(target**2, axis=-1) + EPS) / (ops.sum(noise**2, axis=-1) + EPS)
    return 10.0 * ops.log(ratio) / np.log(10.0)


def si_snr_np(estimate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return si_snr(np.asarray(estimate, np.float64), np.asarray(reference, np.float64))


def best_permutation_si_snr(estimates: np.ndarray, references: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
    """The estimate order that maximises mean SI-SNR, and the per-source values in that order."""
    pair = si_snr_np(estimates[:, None, :], references[None, :, :])  # [estimate, reference]
    best = source_permutations(len(references))[int(np.argmax(per_order_means(pair, len(references))))]
    return best, np.array([pair[best[r], r] for r in range(len(references))])


def bss_eval(references: np.ndarray, estimates: np.ndarray, permute: bool) -> dict[str, np.ndarray]:
    """Whole-utterance BSS Eval v3 (the mir_eval numbers): SDR, SIR, SAR per reference and the estimate order."""
    import museval

    sdr, _, sir, sar, perm = museval.metrics.bss_eval(
        references[..., None].astype(np.float64),
        estimates[..., None].astype(np.float64),
        window=np.inf,
        compute_permutation=permute,
        filters_len=512,
        bsseval_sources_version=True,
    )
    return {"sdr": sdr[:, 0], "sir": sir[:, 0], "sar": sar[:, 0], "perm": perm[:, 0].astype(int)}


def pesq_setting(sample_rate: int) -> tuple[int, str]:
    """PESQ's rate and band for audio at `sample_rate`: 8 kHz narrow band and 16 kHz wide band as they are; any other
    rate is resampled (cocktail.dsp.audio.resample) to 16 kHz wide band when it carries that band (>= 16 kHz), else to
    8 kHz narrow band."""
    rate = sample_rate if sample_rate in PESQ_MODES else 16000 if sample_rate >= 16000 else 8000
    return rate, PESQ_MODES[rate]


def pesq_mos(reference: np.ndarray, degraded: np.ndarray, rate: int, mode: str) -> float:
    """MOS-LQO at one of PESQ's rates; NaN where PESQ cannot score: under a quarter second, no utterance found in the
    reference, or an all-zero degraded signal (its level alignment divides by that signal's power)."""
    if not np.any(degraded):
        return np.nan
    try:
        return float(pesq(rate, reference, degraded, mode))
    except (BufferTooShortError, NoUtterancesError):
        return np.nan


def stoi_pair(reference: np.ndarray, degraded: np.ndarray) -> tuple[float, float]:
    """STOI and ESTOI of signals already at pystoi's 10 kHz, so both measures share one resampling; NaN for both
    where fewer than 30 frames of the reference are speech (pystoi would give a meaningless 1e-5). pystoi is imported
    here: it loads scipy.signal (seconds), which training and `cocktail separate` need not wait for."""
    from pystoi import stoi

    if len(reference) < STOI_MIN_SECONDS * STOI_RATE:
        return np.nan, np.nan
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "Not enough STFT frames", RuntimeWarning)
        try:
            return float(stoi(reference, degraded, STOI_RATE)), float(stoi(reference, degraded, STOI_RATE, extended=True))
        except RuntimeWarning:
            return np.nan, np.nan


def improvement(measure: str, own: float, mixed: float) -> dict[str, float]:
    return {measure: own, f"{measure}_mixture": mixed, f"{measure}_i": own - mixed}


def perceptual_scores(mixture: np.ndarray, references: np.ndarray, estimates: np.ndarray, sample_rate: int) -> list[dict]:
    """PESQ (see pesq_setting for the rate), STOI and ESTOI per reference: of its matched estimate, of the mixture, and
    the improvement. Each signal is resampled once; STOI's resampler is pystoi's own, so the values are pystoi's."""
    from pystoi.utils import resample_oct

    rate, mode = pesq_setting(sample_rate)

    def for_pesq(signal: np.ndarray) -> np.ndarray:
        return signal if rate == sample_rate else resample(signal, sample_rate, rate)

    def for_stoi(signal: np.ndarray) -> np.ndarray:
        return signal if sample_rate == STOI_RATE else resample_oct(np.asarray(signal, np.float64), STOI_RATE, sample_rate)

    mixture_pesq, mixture_stoi = for_pesq(mixture), for_stoi(mixture)
    rows = []
    for reference, estimate in zip(references, estimates):
        reference_pesq, reference_stoi = for_pesq(reference), for_stoi(reference)
        pesq_own = pesq_mos(reference_pesq, for_pesq(estimate), rate, mode)
        pesq_mixed = pesq_mos(reference_pesq, mixture_pesq, rate, mode)
        stoi_own, estoi_own = stoi_pair(reference_stoi, for_stoi(estimate))
        stoi_mixed, estoi_mixed = stoi_pair(reference_stoi, mixture_stoi)
        rows.append(
            improvement("pesq", pesq_own, pesq_mixed) | improvement("stoi", stoi_own, stoi_mixed)
            | improvement("estoi", estoi_own, estoi_mixed)
        )
    return rows


def mixture_sdr(mixture: np.ndarray, references: np.ndarray) -> np.ndarray:
    """The mixture's SDR against each reference, scored against that reference alone: bss_eval_sources' SDR depends
    only on the projection onto its own reference, so the numbers are those of scoring against all of them, without
    the solves over every reference's filters that only SIR and SAR need (most of the baseline's cost)."""
    return np.array([bss_eval(references[r : r + 1], mixture[None], permute=False)["sdr"][0] for r in range(len(references))])


def separation_scores(mixture: np.ndarray, references: np.ndarray, estimates: np.ndarray) -> list[dict]:
    """BSS Eval and SI-SNR per source, with the best permutation and the mixture as baseline, on the common length."""
    length = min(len(mixture), references.shape[-1], estimates.shape[-1])
    mixture, references, estimates = mixture[:length], references[:, :length], estimates[:, :length]
    scores = bss_eval(references, estimates, permute=True)
    sdr_mixture = mixture_sdr(mixture, references)
    ordered = estimates[scores["perm"]]
    si = si_snr_np(ordered, references)
    si_mix = si_snr_np(np.repeat(mixture[None], len(references), axis=0), references)
    return [
        {
            "source": r,
            "estimate": int(scores["perm"][r]),
            "sdr": float(scores["sdr"][r]),
            "sir": float(scores["sir"][r]),
            "sar": float(scores["sar"][r]),
            "sdr_mixture": float(sdr_mixture[r]),
            "nsdr": float(scores["sdr"][r] - sdr_mixture[r]),
            "si_snr": float(si[r]),
            "si_snri": float(si[r] - si_mix[r]),
            "samples": length,
        }
        for r in range(len(references))
    ]


def score_mixture(mixture: np.ndarray, references: np.ndarray, estimates: np.ndarray, sample_rate: int) -> list[dict]:
    """Per-source scores of one separated mixture: BSS Eval and SI-SNR, then PESQ, STOI and ESTOI of the estimate
    BSS Eval's best permutation matched to each reference."""
    rows = separation_scores(mixture, references, estimates)
    length = rows[0]["samples"]
    order = [row["estimate"] for row in rows]
    perceptual = perceptual_scores(mixture[:length], references[:, :length], estimates[order, :length], sample_rate)
    return [row | values for row, values in zip(rows, perceptual)]


def aggregate(per_source: pd.DataFrame) -> dict[str, float]:
    """GNSDR/GSIR/GSAR weight each source by its length (Hsu and Jang); plain means sit beside them."""
    weights = per_source["samples"].to_numpy(np.float64)

    def weighted(column: str) -> float:
        return float(np.average(per_source[column], weights=weights))

    return {
        "gnsdr": weighted("nsdr"),
        "gsir": weighted("sir"),
        "gsar": weighted("sar"),
        "sdri": float(per_source["nsdr"].mean()),
        "si_snri": float(per_source["si_snri"].mean()),
        "sdr": float(per_source["sdr"].mean()),
        "sir": float(per_source["sir"].mean()),
        "sar": float(per_source["sar"].mean()),
        "si_snr": float(per_source["si_snr"].mean()),
        "n_sources_scored": int(len(per_source)),
        **perceptual_means(per_source),
    }


def perceptual_means(per_source: pd.DataFrame) -> dict:
    """Each perceptual measure, its mixture value and its improvement averaged over the same sources, those it could
    score, so the improvement is the difference of the means; the others are counted (STOI and ESTOI fail together).
    A mean over no source is None: JSON has no NaN."""
    means = {}
    for measure in PERCEPTUAL:
        scored = per_source[per_source[f"{measure}_i"].notna()]
        for key in (measure, f"{measure}_mixture", f"{measure}_i"):
            means[key] = float(scored[key].mean()) if len(scored) else None
    for measure in ("pesq", "stoi"):
        means[f"{measure}_unscored"] = int(per_source[f"{measure}_i"].isna().sum())
    return means
