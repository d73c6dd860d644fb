"""Separating a user's recording of any length: overlapping chunks at the model's sample rate, each chunk's
sources put in the previous chunk's order where they overlap and cross-faded, then written back at the
recording's own rate. Only a chunk is ever in memory, so a one-hour file needs no more than a minute."""

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment, nnls
from tqdm import tqdm

from cocktail.constants import EPS
from cocktail.dsp.audio import StreamResampler, audio_blocks, open_audio, wav_writer
from cocktail.errors import CocktailError


@dataclass(frozen=True)
class Chunking:
    """Chunks long enough for the models' context, overlapping enough to match sources across a boundary."""

    chunk_seconds: float = 10.0
    overlap_seconds: float = 2.0

    def samples(self, sample_rate: int) -> tuple[int, int]:
        chunk, overlap = round(self.chunk_seconds * sample_rate), round(self.overlap_seconds * sample_rate)
        if overlap <= 0 or chunk < 2 * overlap:
            raise CocktailError(
                f"chunks of {self.chunk_seconds} s with {self.overlap_seconds} s of overlap: the overlap must be positive "
                "and at most half a chunk (e.g. --chunk-seconds 10 --overlap-seconds 2)."
            )
        return chunk, overlap


@dataclass(frozen=True)
class Recording:
    path: Path
    sample_rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def inspect_recording(path: str | Path) -> Recording:
    """Refuses a missing, empty or undecodable file before any output is opened."""
    with open_audio(path) as handle:
        return Recording(Path(path), handle.samplerate, handle.channels, handle.frames)


def check_model_rate(recording: Recording, model_rate: int, model_dir: str | Path, allow_upsampling: bool) -> None:
    """Downsampling to the model's rate loses only what it never heard; upsampling cannot restore the band a
    model trained at a higher rate relies on, so it is refused unless asked for."""
    if recording.sample_rate < model_rate and not allow_upsampling:
        raise CocktailError(
            f"{recording.path} is sampled at {recording.sample_rate} Hz but the model in {model_dir} was trained at "
            f"{model_rate} Hz and expects content up to {model_rate // 2} Hz that this recording lacks. Use a model trained "
            f"at {recording.sample_rate} Hz or less (params key 'corpus.sample_rate'), or pass --allow-upsampling to try anyway."
        )


def check_separable(separator, n_sources: int) -> None:
    from cocktail.inference.separation import check_source_count  # imports TensorFlow: not needed for `cocktail --help`

    if not separator.inference.separates_recordings:
        raise CocktailError(
            f"model '{separator.architecture_name}' separates only mixtures of known test utterances (it is given the "
            "speakers' identities), not a new recording: train another model, e.g. `dvc exp run -S model=convtasnet`."
        )
    check_source_count(separator, n_sources, "--n-sources", "leave --n-sources out or use one of them")


def match_order(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The order of `current`'s sources that best correlates with `previous` over the same samples."""
    prev = previous / (np.linalg.norm(previous, axis=1, keepdims=True) + EPS)
    curr = current / (np.linalg.norm(current, axis=1, keepdims=True) + EPS)
    rows, cols = linear_sum_assignment(-(prev @ curr.T))
    return cols[np.argsort(rows)]


def mixture_gains(estimates: np.ndarray, mixture: np.ndarray) -> np.ndarray:
    """Non-negative gains under which the estimates best sum to the mixture. A time-domain model trained on
    scale-invariant SI-SNR leaves each chunk's level arbitrary; this puts every chunk at the mixture's level."""
    gains, _ = nnls(estimates.T.astype(np.float64), mixture.astype(np.float64))
    return gains.astype(np.float32)


def separate_chunks(separate: Callable[[np.ndarray], np.ndarray], blocks: Iterator[np.ndarray], chunk: int, overlap: int) -> Iterator[np.ndarray]:
    """Finished (sources, samples) pieces, in order, of a signal given as blocks. `separate` maps a chunk to its
    sources; a chunk starts `overlap` samples before the previous one ends, and its sources are reordered to
    match and cross-faded linearly over those samples."""
    pending = np.zeros(0, np.float32)  # not yet separated, including the overlap shared with the last chunk
    tail = None  # the last chunk's sources over that overlap, waiting to be cross-faded
    fade_in = np.linspace(0.0, 1.0, overlap, dtype=np.float32)

    def step(window: np.ndarray, final: bool) -> Iterator[np.ndarray]:
        nonlocal tail
        sources = separate(window)
        start = 0
        if tail is not None:
            sources = sources[match_order(tail, sources[:, :overlap])]
            yield tail * (1.0 - fade_in) + sources[:, :overlap] * fade_in
            start = overlap
        end = len(window) if final else len(window) - overlap
        yield sources[:, start:end]
        tail = None if final else sources[:, end:]

    for block in blocks:
        pending = np.concatenate([pending, block])
        while len(pending) >= chunk + overlap:  # the last window keeps at least two overlaps of signal
            yield from step(pending[:chunk], final=False)
            pending = pending[chunk - overlap :]
    yield from step(pending, final=True)


def chunk_separator(separator, n_sources: int) -> Callable[[np.ndarray], np.ndarray]:
    def separate(window: np.ndarray) -> np.ndarray:
        sources = separator.separate(window, n_sources=n_sources).sources
        if separator.inference.time_domain:
            sources = sources * mixture_gains(sources, window)[:, None]
        return sources

    return separate


def output_paths(recording: Recording, out_dir: str | Path, n_sources: int) -> list[Path]:
    return [Path(out_dir) / f"{recording.path.stem}_s{c + 1}.wav" for c in range(n_sources)]


def separate_recording(
    separator, recording: Recording, out_dir: str | Path, n_sources: int | None = None, chunking: Chunking = Chunking(),
    allow_upsampling: bool = False, model_dir: str | Path = "model", progress: bool = True,
) -> list[Path]:
    """One WAV per source at the recording's sample rate, all written or none."""
    n_sources = int(n_sources or separator.n_sources)
    check_separable(separator, n_sources)
    rate = separator.spectral.sample_rate
    check_model_rate(recording, rate, model_dir, allow_upsampling)
    chunk, overlap = chunking.samples(rate)
    paths = output_paths(recording, out_dir, n_sources)
    blocks = audio_blocks(recording.path, rate, chunking.chunk_seconds)
    back = [StreamResampler(rate, recording.sample_rate, length=recording.frames) for _ in paths]
    bar = tqdm(total=recording.seconds, unit="s", desc=f"separating {recording.path.name}", disable=not progress,
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]")
    with contextlib.ExitStack() as stack:
        stack.callback(bar.close)
        writers = [stack.enter_context(wav_writer(p, recording.sample_rate)) for p in paths]
        for piece in separate_chunks(chunk_separator(separator, n_sources), blocks, chunk, overlap):
            for write, resampler, source in zip(writers, back, piece):
                write(resampler(source))
            bar.update(piece.shape[1] / rate)
        for write, resampler in zip(writers, back):
            write(resampler(np.zeros(0, np.float32), last=True))
    return paths
