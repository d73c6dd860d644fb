"""Does chunked separation keep each speaker on one output? Two test speakers of the prepared corpus talk
over each other without pause for --seconds; `cocktail separate`'s chunked path separates the conversation
with a trained model, and every --segment seconds is scored (SI-SNR improvement) under the one speaker-to-
output assignment that is best over the whole file. A swap between chunks shows as segments whose own
best assignment differs. Reference, in the same run: the same model on each segment separately (no
stitching), which bounds what the chunked output can reach. Usage: python bench/separate_order.py
[--model model] [--seconds 120] [--segment 4]"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from cocktail.data.prepared_data import load_prepared
from cocktail.errors import CocktailError
from cocktail.inference.recording import inspect_recording, separate_recording
from cocktail.inference.separation import load_separator
from cocktail.scoring.metrics import best_permutation_si_snr, si_snr_np


def conversation(prepared: str, seconds: float, rate: int) -> tuple[np.ndarray, list[str]]:
    """(2, samples) references of the first two test speakers, each their utterances looped end to end, at equal
    level, scaled so that their sum peaks at 0.9."""
    audio, manifest = load_prepared(prepared)
    test = manifest[manifest["split"] == "test"]
    speakers = sorted(test["speaker"].unique())[:2]
    n = int(seconds * rate)
    tracks = []
    for speaker in speakers:
        utterances = [audio[i] for i in test.index[test["speaker"] == speaker]]
        track = np.concatenate(utterances * (n // sum(map(len, utterances)) + 1))[:n]
        tracks.append(track / np.sqrt(np.mean(track**2)))
    references = np.stack(tracks)
    return (0.9 * references / np.abs(references.sum(axis=0)).max()).astype(np.float32), speakers


def segment_scores(estimates: np.ndarray, references: np.ndarray, mixture: np.ndarray, segment: int):
    """Per segment: SI-SNRi of each speaker under `estimates`' order, and whether its own best order differs."""
    gains, swapped = [], []
    for start in range(0, references.shape[1] - segment + 1, segment):
        part = slice(start, start + segment)
        order, _ = best_permutation_si_snr(estimates[:, part], references[:, part])
        swapped.append(order != tuple(range(len(references))))
        baseline = si_snr_np(np.repeat(mixture[None, part], len(references), axis=0), references[:, part])
        gains.append(si_snr_np(estimates[:, part], references[:, part]) - baseline)
    return np.array(gains), np.array(swapped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="model", help="trained model folder (default: model, the pipeline's current model)")
    parser.add_argument("--prepared", default="data/prepared", help="the prepare stage's output (default: data/prepared)")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the conversation (default: 120)")
    parser.add_argument("--segment", type=float, default=4.0, help="seconds per scored segment (default: 4)")
    args = parser.parse_args()
    separator = load_separator(args.model)
    rate = separator.spectral.sample_rate
    references, speakers = conversation(args.prepared, args.seconds, rate)
    mixture = references.sum(axis=0)
    segment = int(args.segment * rate)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conversation.wav"
        sf.write(path, mixture, rate, subtype="FLOAT")
        outputs = separate_recording(separator, inspect_recording(path), Path(tmp) / "out")
        chunked = np.stack([sf.read(p, dtype="float32")[0] for p in outputs])
    order, _ = best_permutation_si_snr(chunked, references)
    chunked_gains, swapped = segment_scores(chunked[list(order)], references, mixture, segment)
    separate_gains = []
    for start in range(0, len(mixture) - segment + 1, segment):
        part = slice(start, start + segment)
        estimates = separator.separate(mixture[part]).sources
        _, values = best_permutation_si_snr(estimates, references[:, part])
        baseline = si_snr_np(np.repeat(mixture[None, part], len(references), axis=0), references[:, part])
        separate_gains.append(values - baseline)
    separate_gains = np.array(separate_gains)
    print(f"model {separator.architecture_name} ({args.model}), speakers {' and '.join(speakers)}, {args.seconds:.0f} s conversation, "
          f"{len(swapped)} segments of {args.segment:g} s")
    print(f"chunked, one order for the whole file:       SI-SNRi {chunked_gains.mean():6.2f} dB")
    print(f"each segment alone, its own best order:      SI-SNRi {separate_gains.mean():6.2f} dB  (reference)")
    print(f"segments whose own best order differs:       {swapped.sum()} of {len(swapped)} ({swapped.mean():.0%})")
    print(f"ratio chunked / reference SI-SNRi:           {chunked_gains.mean() / separate_gains.mean():.2f}")


if __name__ == "__main__":
    try:
        main()
    except CocktailError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
