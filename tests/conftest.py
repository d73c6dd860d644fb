import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

SAMPLE_RATE = 8000


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def two_sources(rng):
    """(2, 4000) float32: a 440 Hz sine and a 1.3 kHz sine with a little noise, 0.5 s at 8 kHz."""
    t = np.arange(4000) / SAMPLE_RATE
    low = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)
    high = 0.3 * np.sin(2 * np.pi * 1300 * t) + 0.01 * rng.standard_normal(t.size)
    return np.stack([low, high]).astype(np.float32)
