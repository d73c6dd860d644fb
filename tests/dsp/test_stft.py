import numpy as np
import pytest

from cocktail.dsp.stft import StftConfig, istft, stft

CFG = StftConfig(n_fft=256, hop_length=64)


@pytest.mark.parametrize("length", [1000, 1001, 4000, 4093, 257])
def test_round_trip_any_length(rng, length):
    x = rng.standard_normal(length).astype(np.float32) * 0.3
    y = istft(stft(x, CFG), CFG, length)
    assert y.shape == (length,)
    np.testing.assert_allclose(y, x, atol=1e-5)


def test_round_trip_batched(two_sources):
    spec = stft(two_sources, CFG)
    assert spec.shape[:1] == (2,) and spec.shape[-1] == 129
    y = istft(spec, CFG, two_sources.shape[-1])
    assert y.shape == two_sources.shape
    np.testing.assert_allclose(y, two_sources, atol=1e-5)


def test_shape_is_frames_by_bins(rng):
    x = rng.standard_normal(4000).astype(np.float32)
    spec = stft(x, CFG)
    # centred frames: 1 + len // hop
    assert spec.shape == (1 + 4000 // 64, 129)
    assert np.iscomplexobj(spec)
    assert CFG.n_bins == 129


def test_bin_of_a_sine(rng):
    """Time first, frequency second: a 1 kHz sine peaks in bin 1000 / (8000 / 256) = 32."""
    t = np.arange(4000) / 8000
    spec = stft(np.sin(2 * np.pi * 1000 * t), CFG)
    assert np.argmax(np.abs(spec).mean(axis=0)) == 32
