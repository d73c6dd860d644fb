import numpy as np
import pytest
import soundfile as sf

from cocktail.dsp.audio import read_audio, write_wav
from cocktail.errors import CocktailError


def sine(sr, seconds=0.5, freq=440.0):
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_resamples_16k_to_8k(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, sine(16000), 16000, subtype="FLOAT")
    audio = read_audio(path, 8000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.shape == (4000,)
    # still a 440 Hz sine at 8 kHz: compare away from the edges
    np.testing.assert_allclose(audio[200:-200], sine(8000)[200:-200], atol=1e-2)


def test_same_rate_is_unchanged(tmp_path):
    path = tmp_path / "a.wav"
    x = sine(8000)
    sf.write(path, x, 8000, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(path, 8000), x)


def test_downmixes_stereo(tmp_path):
    path = tmp_path / "stereo.wav"
    left, right = sine(8000), np.full(4000, 0.25, np.float32)
    sf.write(path, np.stack([left, right], axis=1), 8000, subtype="FLOAT")
    audio = read_audio(path, 8000)
    assert audio.shape == (4000,)
    np.testing.assert_allclose(audio, (left + right) / 2, atol=1e-6)


def test_empty_wav_names_path(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 8000)
    with pytest.raises(CocktailError, match="empty.wav"):
        read_audio(path, 8000)


def test_corrupt_file_names_path(tmp_path, rng):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
    with pytest.raises(CocktailError, match="corrupt.wav"):
        read_audio(path, 8000)


def test_zero_byte_file_names_path(tmp_path):
    path = tmp_path / "zero.wav"
    path.write_bytes(b"")
    with pytest.raises(CocktailError, match="zero.wav"):
        read_audio(path, 8000)


def test_missing_file_names_path(tmp_path):
    with pytest.raises(CocktailError, match="missing.wav"):
        read_audio(tmp_path / "missing.wav", 8000)


def test_write_wav_clips_and_leaves_no_temporaries(tmp_path):
    out = tmp_path / "sub" / "out.wav"
    write_wav(out, np.array([0.0, 0.5, 2.0, -3.0], np.float32), 8000)
    assert [p.name for p in out.parent.iterdir()] == ["out.wav"]
    data, sr = sf.read(out, dtype="float32")
    assert sr == 8000 and sf.info(out).subtype == "PCM_16"
    np.testing.assert_allclose(data, [0.0, 0.5, 1.0, -1.0], atol=1e-4)


def test_write_wav_failure_leaves_nothing(tmp_path):
    out = tmp_path / "bad.wav"
    with pytest.raises(Exception):
        write_wav(out, np.zeros((2, 2, 2), np.float32), 8000)
    assert list(tmp_path.iterdir()) == []
