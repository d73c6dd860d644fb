"""The one audio reader and writer: mono float32 at the pipeline's sample rate."""

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from cocktail.atomic import atomic_path
from cocktail.errors import CocktailError


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average channels; soundfile gives (samples, channels)."""
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """soxr's high-quality resampler, cut or padded to ceil(n * target / orig) samples as librosa.resample does;
    called directly so that decoding workers need not import librosa."""
    if orig_sr == target_sr:
        return audio.astype(np.float32)
    n = int(np.ceil(len(audio) * target_sr / orig_sr))
    resampled = soxr.resample(audio, orig_sr, target_sr, quality="soxr_hq")[:n]
    return np.pad(resampled, (0, n - len(resampled))).astype(np.float32)


SPHERE_MAGIC = b"NIST_1A"
SILENCE_PEAK = 1e-4


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


def read_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """Read any file soundfile understands, downmix and resample; refuse unreadable or empty files."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise CocktailError(f"{path}: the file is empty (0 bytes). Remove it or replace it with a real recording.")
        check_not_shorten(path)
        audio, sr = sf.read(path, dtype="float32", always_2d=False)
    except CocktailError:
        raise
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise CocktailError(
            f"{path}: cannot be read as audio ({err}). Replace or remove the file; it may be corrupt or not audio."
        ) from err
    audio = to_mono(audio)
    if audio.size == 0:
        raise CocktailError(f"{path}: the file holds no samples. Remove it or replace it with a real recording.")
    if not np.all(np.isfinite(audio)):
        raise CocktailError(f"{path}: the file holds NaN or infinite samples. Replace it.")
    return resample(audio, sr, sample_rate)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM, written atomically; clipped so a loud estimate does not wrap around."""
    with atomic_path(path) as tmp:
        sf.write(tmp, np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
