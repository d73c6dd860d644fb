"""The one audio reader and writer: mono float32 at the pipeline's sample rate, whole or block by block."""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from cocktail.atomic import atomic_path
from cocktail.errors import CocktailError


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average channels; soundfile gives (samples, channels)."""
    return audio.mean(axis=1) if audio.ndim == 2 else audio


class StreamResampler:
    """soxr's high-quality resampler fed block by block; the whole output is `length` samples, by default
    ceil(n * target / orig) as librosa.resample gives (cut or padded at the end), and equals resampling in one call."""

    def __init__(self, orig_sr: int, target_sr: int, length: int | None = None):
        self.orig_sr, self.target_sr, self.length = orig_sr, target_sr, length
        self._stream = None if orig_sr == target_sr else soxr.ResampleStream(orig_sr, target_sr, 1, dtype="float32", quality="HQ")
        self._consumed = 0
        self._produced = 0

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        block = np.asarray(block, np.float32)
        self._consumed += len(block)
        out = block if self._stream is None else self._stream.resample_chunk(block, last=last)
        if last:
            expected = self.length if self.length is not None else int(np.ceil(self._consumed * self.target_sr / self.orig_sr))
            out = np.pad(out[: max(expected - self._produced, 0)], (0, max(expected - self._produced - len(out), 0)))
        self._produced += len(out)
        return out.astype(np.float32)


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Called with soxr directly so that decoding workers need not import librosa."""
    return StreamResampler(orig_sr, target_sr)(audio, last=True)


SPHERE_MAGIC = b"NIST_1A"
SILENCE_PEAK = 1e-4
DECODE_ERRORS = (sf.LibsndfileError, RuntimeError, OSError)


def is_silent(audio: np.ndarray) -> bool:
    """A silent source cannot be a separation target: its SDR and ideal mask are undefined."""
    return float(np.max(np.abs(audio), initial=0.0)) < SILENCE_PEAK


def check_not_shorten(path: Path) -> None:
    """libsndfile reads plain SPHERE but not LDC's shorten compression, which much of WSJ0 ships in."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if head.startswith(SPHERE_MAGIC) and b"shorten" in head:
        raise CocktailError(
            f"{path}: SPHERE audio compressed with shorten, which cannot be decoded here. Convert the corpus to "
            "plain SPHERE or WAV first, e.g. with LDC's sph2pipe: `sph2pipe -f wav in.wv1 out.wv1` for every file "
            "(keep the names and folders), then prepare again."
        )


def not_audio(path: Path, err: Exception) -> CocktailError:
    return CocktailError(f"{path}: cannot be read as audio ({err}). Replace or remove the file; it may be corrupt or not audio.")


def open_audio(path: str | Path) -> sf.SoundFile:
    """An open file that exists, is not empty, decodes and holds samples; anything else names the file."""
    path = Path(path)
    if not path.is_file():
        raise CocktailError(f"{path}: no such file. Check the path.")
    if path.stat().st_size == 0:
        raise CocktailError(f"{path}: the file is empty (0 bytes). Remove it or replace it with a real recording.")
    try:
        check_not_shorten(path)
        handle = sf.SoundFile(path)
    except DECODE_ERRORS as err:
        raise not_audio(path, err) from err
    if handle.frames == 0:
        handle.close()
        raise CocktailError(f"{path}: the file holds no samples. Remove it or replace it with a real recording.")
    return handle


def read_mono(handle: sf.SoundFile, frames: int = -1) -> np.ndarray:
    """The next `frames` samples (all with -1), channels averaged; a decoding failure names the file."""
    try:
        audio = to_mono(handle.read(frames, dtype="float32", always_2d=False))
    except DECODE_ERRORS as err:
        raise not_audio(Path(handle.name), err) from err
    if not np.all(np.isfinite(audio)):
        raise CocktailError(f"{handle.name}: the file holds NaN or infinite samples. Replace it.")
    return audio


def read_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """Read any file soundfile understands, downmix and resample; refuse unreadable or empty files."""
    with open_audio(path) as handle:
        return resample(read_mono(handle), handle.samplerate, sample_rate)


def audio_blocks(path: str | Path, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    """A recording of any length as mono blocks at `sample_rate`, so memory does not grow with the file."""
    with open_audio(path) as handle:
        resampler = StreamResampler(handle.samplerate, sample_rate)
        frames = max(1, int(block_seconds * handle.samplerate))
        read = 0
        while read < handle.frames:
            block = read_mono(handle, frames)
            if not len(block):
                break  # the header promised more frames than the file holds
            read += len(block)
            yield resampler(block, last=read >= handle.frames)
        if read < handle.frames:
            yield resampler(np.zeros(0, np.float32), last=True)


@contextlib.contextmanager
def wav_writer(path: str | Path, sample_rate: int) -> Iterator[Callable[[np.ndarray], None]]:
    """16-bit PCM written block by block, clipped so a loud estimate does not wrap around; the file appears
    under `path` only once the block succeeds."""
    with atomic_path(path) as tmp, sf.SoundFile(tmp, "w", sample_rate, 1, subtype="PCM_16", format="WAV") as handle:
        yield lambda audio: handle.write(np.clip(np.asarray(audio, np.float32), -1.0, 1.0))


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> None:
    with wav_writer(path, sample_rate) as write:
        write(audio)
