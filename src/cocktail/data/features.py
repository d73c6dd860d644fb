"""Network inputs and targets from mixtures: one stage serves every architecture.

Spectral models get 100-frame chunks of log magnitude with the ideal binary mask, source
magnitudes and voice-activity weights; time-domain models get waveform segments."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cocktail.atomic import save_json
from cocktail.data.shards import ShardWriter, load_npz, shard_name, shard_paths
from cocktail.dsp.masks import MAGNITUDE_FLOOR, ideal_binary_mask, log_magnitude, voice_activity_weights
from cocktail.dsp.spectral import Normaliser
from cocktail.dsp.stft import StftConfig, stft
from cocktail.errors import CocktailError

# Padding past an utterance's end must look like silence to the network, not like a loud bin.
SILENT_LOG_MAGNITUDE = float(np.log(MAGNITUDE_FLOOR))


def window_starts(total: int, size: int) -> list[int]:
    """Non-overlapping windows, plus one flush with the end so no frame is dropped."""
    if total <= size:
        return [0]
    starts = list(range(0, total - size + 1, size))
    if starts[-1] + size < total:
        starts.append(total - size)
    return starts


def fit_window(array: np.ndarray, start: int, size: int, axis: int, fill: float = 0.0) -> np.ndarray:
    """Slice `size` items from `start` along `axis`, padding with `fill` when the array is shorter."""
    piece = np.take(array, np.arange(start, min(start + size, array.shape[axis])), axis=axis)
    missing = size - piece.shape[axis]
    if missing:
        pad = [(0, 0)] * array.ndim
        pad[axis] = (0, missing)
        piece = np.pad(piece, pad, constant_values=fill)
    return piece


def spectral_targets(mixture: np.ndarray, sources: np.ndarray, cfg: StftConfig, vad_db: float) -> dict[str, np.ndarray]:
    """Whole-utterance log magnitude (T, F), source magnitudes and IBM (T, F, C), VAD weights (T, F)."""
    mix_mag = np.abs(stft(mixture, cfg))
    src_mag = np.abs(stft(sources, cfg))
    return {
        "log_mag": log_magnitude(mix_mag),
        "src_mag": np.moveaxis(src_mag, 0, -1),
        "ibm": np.moveaxis(ideal_binary_mask(src_mag), 0, -1),
        "vad": voice_activity_weights(mix_mag, vad_db),
    }


SPECTRAL_DTYPES = {"log_mag": np.float16, "src_mag": np.float16, "ibm": np.uint8, "vad": np.uint8}
WAVEFORM_DTYPES = {"mix_wave": np.float32, "src_wave": np.float32}
# Spectral chunks and waveform segments are written as two series of shards; index.json counts each shard's examples.
KINDS = ("spectral", "waveform")
INDEX_FILE = "index.json"


def spectral_chunks(mixture: np.ndarray, sources: np.ndarray, cfg: StftConfig, vad_db: float, chunk_frames: int) -> list[dict]:
    """The spectral examples of one mixture: `chunk_frames`-frame windows of its log magnitude and targets."""
    targets = spectral_targets(mixture, sources, cfg, vad_db)
    return [
        {
            key: fit_window(value, start, chunk_frames, axis=0, fill=SILENT_LOG_MAGNITUDE if key == "log_mag" else 0.0)
            .astype(SPECTRAL_DTYPES[key])
            for key, value in targets.items()
        }
        for start in window_starts(len(targets["log_mag"]), chunk_frames)
    ]


def waveform_segments(mixture: np.ndarray, sources: np.ndarray, segment_samples: int) -> list[dict]:
    """The waveform examples of one mixture: `segment_samples`-sample windows of it and of its sources."""
    return [
        {
            "mix_wave": fit_window(mixture, start, segment_samples, axis=0).astype(WAVEFORM_DTYPES["mix_wave"]),
            "src_wave": fit_window(sources, start, segment_samples, axis=1).astype(WAVEFORM_DTYPES["src_wave"]),
        }
        for start in window_starts(len(mixture), segment_samples)
    ]


def mixture_examples(
    mixture: np.ndarray, sources: np.ndarray, cfg: StftConfig, vad_db: float, chunk_frames: int, segment_samples: int
) -> tuple[list[dict], list[dict]]:
    """Both kinds of example of one mixture, as the features stage stores them (dynamic mixing computes only the
    kind its model learns from)."""
    return spectral_chunks(mixture, sources, cfg, vad_db, chunk_frames), waveform_segments(mixture, sources, segment_samples)


def stack_examples(items: list[dict]) -> dict[str, np.ndarray]:
    return {key: np.stack([item[key] for item in items]) for key in items[0]}


class RunningMoments:
    """Per-bin mean and variance merged batch by batch (Chan et al.), so the training split's statistics need not
    be in memory at once."""

    def __init__(self):
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        flat = values.reshape(-1, values.shape[-1]).astype(np.float64)
        count, mean = len(flat), flat.mean(axis=0)
        m2 = ((flat - mean) ** 2).sum(axis=0)
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * count / total
        self.m2 = self.m2 + m2 + delta**2 * self.count * count / total
        self.count = total

    def normaliser(self) -> Normaliser:
        std = np.sqrt(self.m2 / self.count)
        return Normaliser(np.asarray(self.mean, np.float32), np.maximum(std, 1e-3).astype(np.float32))


def write_features(
    mixtures: Iterable[tuple[np.ndarray, np.ndarray]], directory: str | Path, cfg: StftConfig, vad_db: float,
    chunk_frames: int, segment_samples: int, max_bytes: int, moments: RunningMoments | None = None,
) -> dict[str, list[int]]:
    """A split's examples as shards, written mixture by mixture; `moments` gathers the log magnitudes' statistics."""
    directory = Path(directory)
    writers = {kind: ShardWriter(directory, kind, max_bytes, stack_examples) for kind in KINDS}
    for mixture, sources in mixtures:
        chunks, segments = mixture_examples(mixture, sources, cfg, vad_db, chunk_frames, segment_samples)
        if moments is not None:
            moments.add(np.stack([chunk["log_mag"] for chunk in chunks]))
        for chunk in chunks:
            writers["spectral"].append(chunk)
        for segment in segments:
            writers["waveform"].append(segment)
    counts = {kind: writer.close() for kind, writer in writers.items()}
    save_json(directory / INDEX_FILE, counts)
    return counts


@dataclass(frozen=True)
class FeatureShards:
    """One split of the features stage's output: which shards hold how many examples of each kind."""

    directory: Path
    counts: dict[str, list[int]]

    @classmethod
    def open(cls, directory: str | Path) -> "FeatureShards":
        path = Path(directory) / INDEX_FILE
        if not path.is_file():
            raise CocktailError(f"{path} not found: run the features stage first (`dvc repro features`).")
        counts = json.loads(path.read_text())
        shards = cls(Path(directory), counts)
        for kind in KINDS:
            shard_paths(directory, kind, counts[kind])
        return shards

    def examples(self, kind: str) -> int:
        return int(sum(self.counts[kind]))

    def load(self, kind: str, index: int) -> dict[str, np.ndarray]:
        """One shard, checked against the index so a truncated one is named rather than silently shorter."""
        path = self.directory / shard_name(kind, index)
        arrays = load_npz(path)
        found = len(next(iter(arrays.values())))
        if found != self.counts[kind][index]:
            raise CocktailError(
                f"{path} holds {found} examples where {self.directory / INDEX_FILE} lists {self.counts[kind][index]}: "
                "the folder is damaged. Rebuild it with `dvc repro -f features`."
            )
        return arrays
