"""The one metrics module: SI-SNR (shared with the training loss), BSS Eval v3 via museval, and aggregates."""

import itertools

import numpy as np
import pandas as pd

from cocktail.constants import EPS

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


def score_mixture(mixture: np.ndarray, references: np.ndarray, estimates: np.ndarray) -> list[dict]:
    """Per-source scores of one separated mixture, with the best permutation and the mixture as baseline."""
    length = min(len(mixture), references.shape[-1], estimates.shape[-1])
    mixture, references, estimates = mixture[:length], references[:, :length], estimates[:, :length]
    scores = bss_eval(references, estimates, permute=True)
    baseline = bss_eval(references, np.repeat(mixture[None], len(references), axis=0), permute=False)
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
            "sdr_mixture": float(baseline["sdr"][r]),
            "nsdr": float(scores["sdr"][r] - baseline["sdr"][r]),
            "si_snr": float(si[r]),
            "si_snri": float(si[r] - si_mix[r]),
            "samples": length,
        }
        for r in range(len(references))
    ]


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
    }
