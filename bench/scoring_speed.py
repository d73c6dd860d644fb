"""Seconds to score a test set as the evaluate and oracle stages do (joblib over every core): today's scoring with the
perceptual measures (PESQ, STOI, ESTOI) against the scoring before them, all measured in one run on the same mixtures
and estimates. Before them, the mixture's SDR came from a second BSS Eval against all references; it is now scored
against each reference alone (cocktail.scoring.metrics.mixture_sdr, the same numbers: the bench prints the largest
difference), which pays for much of the measures. Three timings: before (BSS Eval as it was, SI-SNR), BSS Eval and
SI-SNR now, and all of score_mixture.

The mixtures are data/mixtures/test when the mix stage has made it (or --mixtures DIR), at params.yaml's
corpus.sample_rate; else generated ones like the default test set (two harmonic voices with syllable-like envelopes
and a little noise, 2 to 4 s, at --sample-rate). The estimates are each source with some of the other one and noise
left in, in swapped order, so BSS Eval searches the permutation as it does on a model's output. A warm-up first starts
the worker processes and their imports (museval, pesq, pystoi). Each variant runs twice, in mirrored order, so a load
that changes steadily on shared cores weighs on all alike, and each job's CPU seconds are summed beside the
wall-clock time: on cores other work shares, the CPU ratio is the steadier figure.
Usage: python bench/scoring_speed.py [--mixtures DIR] [--count 100] [--sample-rate 8000]"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from cocktail.data.mixture_set import MixtureSet
from cocktail.errors import CocktailError
from cocktail.params import Params
from cocktail.scoring.metrics import bss_eval, score_mixture, separation_scores, si_snr_np
from cocktail.scoring.scores import score_all

ROOT = Path(__file__).resolve().parents[1]
TEST_MIXTURES = ROOT / "data" / "mixtures" / "test"
HARMONICS = 6


def voice(seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    """A harmonic tone at a speaker-like pitch, gated by syllables about four times a second."""
    t = np.arange(round(seconds * rate)) / rate
    pitch, syllables, phase = rng.uniform(100, 250), rng.uniform(3, 5), rng.uniform(0, 2 * np.pi)
    tone = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in range(1, HARMONICS + 1) if k * pitch < rate / 2)
    return tone * np.maximum(np.sin(2 * np.pi * syllables * t + phase), 0.0) ** 2 + 0.005 * rng.standard_normal(t.size)


def generated_mixtures(count: int, rate: int) -> MixtureSet:
    rng = np.random.default_rng(0)
    sources = []
    for _ in range(count):
        seconds = rng.uniform(2.0, 4.0)
        sources.append(0.3 * np.stack([voice(seconds, rate, rng), voice(seconds, rate, rng)]).astype(np.float32))
    table = pd.DataFrame({"mix_id": [f"bench_{i:05d}" for i in range(count)]})
    return MixtureSet([s.sum(axis=0) for s in sources], sources, table)


def imperfect_estimates(mixtures: MixtureSet) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [(s[::-1] + 0.2 * s + 0.01 * rng.standard_normal(s.shape)).astype(np.float32) for s in mixtures.sources]


def scores_before(mixture: np.ndarray, references: np.ndarray, estimates: np.ndarray) -> list[dict]:
    """What score_mixture computed before the perceptual measures, the mixture's SDR as it was computed then."""
    length = min(len(mixture), references.shape[-1], estimates.shape[-1])
    mixture, references, estimates = mixture[:length], references[:, :length], estimates[:, :length]
    repeated = np.repeat(mixture[None], len(references), axis=0)
    scores = bss_eval(references, estimates, permute=True)
    baseline = bss_eval(references, repeated, permute=False)
    si_snri = si_snr_np(estimates[scores["perm"]], references) - si_snr_np(repeated, references)
    return [{"sdr_mixture": float(sdr), "si_snri": float(si)} for sdr, si in zip(baseline["sdr"], si_snri)]


def with_cpu_seconds(score, *args) -> tuple[float, list[dict]]:
    """Runs in a worker: one mixture's rows and the CPU time they took, which other processes on the cores do not
    inflate."""
    start = time.process_time()
    rows = score(*args)
    return time.process_time() - start, rows


def timed(score, mixtures: MixtureSet, estimates: list[np.ndarray], *extra) -> tuple[float, float, pd.DataFrame]:
    """Wall-clock and summed CPU seconds of score_all's parallel loop with `score` as the per-mixture function, and
    its rows."""
    jobs = (delayed(with_cpu_seconds)(score, m, s, e, *extra) for m, s, e in zip(mixtures.mixtures, mixtures.sources, estimates))
    start = time.perf_counter()
    results = list(Parallel(n_jobs=os.cpu_count(), return_as="generator")(jobs))
    wall = time.perf_counter() - start
    return wall, sum(cpu for cpu, _ in results), pd.DataFrame([row for _, rows in results for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixtures", type=Path, help="a mixture folder as the mix stage writes it (default: data/mixtures/test)")
    parser.add_argument("--count", type=int, default=100, help="mixtures to score (default 100, the default test set's size)")
    parser.add_argument("--sample-rate", type=int, default=8000, help="rate of generated mixtures (default 8000)")
    args = parser.parse_args()
    folder = args.mixtures or (TEST_MIXTURES if (TEST_MIXTURES / "mixtures.csv").is_file() else None)
    if folder is not None:
        mixtures, rate = MixtureSet.load(folder).head(args.count), int(Params.load(ROOT / "params.yaml")["corpus.sample_rate"])
        origin = f"{folder} at {rate} Hz (params.yaml's corpus.sample_rate)"
    else:
        rate = args.sample_rate
        mixtures, origin = generated_mixtures(args.count, rate), f"generated at {rate} Hz"
    estimates = imperfect_estimates(mixtures)
    seconds = sum(len(m) for m in mixtures.mixtures) / rate
    print(f"{len(mixtures)} mixtures of {mixtures.n_sources} sources, {seconds:.0f} s of audio, {origin}; {os.cpu_count()} cores")

    warm = min(len(mixtures), os.cpu_count())
    score_all(mixtures.head(warm), estimates[:warm], rate, "warm-up")
    scorers = {
        "before: BSS Eval + SI-SNR": (scores_before,),
        "now: BSS Eval + SI-SNR": (separation_scores,),
        "now: + PESQ, STOI, ESTOI": (score_mixture, rate),
    }
    runs = {name: [] for name in scorers}
    for name in [*scorers, *reversed(scorers)]:
        score, *extra = scorers[name]
        runs[name].append(timed(score, mixtures, estimates, *extra))
    wall, cpu = ({name: np.mean([run[i] for run in runs[name]]) for name in scorers} for i in (0, 1))

    print(f"{'per run, mean of two':30s}{'wall s':>9s}{'CPU s':>9s}{'CPU ms/mixture':>16s}{'x before (wall, CPU)':>24s}")
    first = next(iter(scorers))
    for name in scorers:
        ratios = f"{wall[name] / wall[first]:.2f}x, {cpu[name] / cpu[first]:.2f}x"
        print(f"{name:30s}{wall[name]:9.2f}{cpu[name]:9.2f}{1000 * cpu[name] / len(mixtures):16.1f}{ratios:>24s}")
    before, now = runs[first][-1][2], runs["now: + PESQ, STOI, ESTOI"][-1][2]
    difference = np.max(np.abs(before["sdr_mixture"] - now["sdr_mixture"]))
    print(f"largest difference of the mixture's SDR, before and now: {difference:.2g} dB")
    unscored = now[["pesq_i", "stoi_i"]].isna().sum()
    print(f"sources PESQ could not score: {unscored['pesq_i']}, STOI and ESTOI: {unscored['stoi_i']}")


if __name__ == "__main__":
    try:
        main()
    except CocktailError as err:
        sys.exit(f"error: {err}")
