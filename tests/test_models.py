import keras
import numpy as np
import pytest

from cocktail.errors import CocktailError
from cocktail.features import Normaliser, SpectralSettings
from cocktail.models import ARCHITECTURES
from cocktail.separation import Separator, cluster_masks
from cocktail.stft import StftConfig

BUDGET = {"epochs": 1, "batch_size": 2, "learning_rate": 0.001}
SECTIONS = {
    "blstm": {"hidden": 8, "layers": 1, "dropout": 0.0, "permutation": "pit", **BUDGET},
    "dpcl": {"hidden": 8, "layers": 1, "dropout": 0.0, "embedding_dim": 4, **BUDGET},
    "convtasnet": {"N": 8, "L": 16, "B": 8, "Sc": 8, "H": 8, "P": 3, "X": 2, "R": 1, **BUDGET},
}
SPECTRAL = SpectralSettings(StftConfig(), 40.0, 8000, Normaliser(np.zeros(129, np.float32), np.ones(129, np.float32)))
N_SOURCES = 2


def test_every_architecture_has_a_test_section():
    assert set(ARCHITECTURES) == set(SECTIONS)
    for name, arch in ARCHITECTURES.items():
        assert set(arch.params) <= set(SECTIONS[name])


@pytest.fixture(scope="module", params=sorted(SECTIONS))
def separator(request):
    keras.utils.set_random_seed(0)
    return Separator.create(request.param, SECTIONS[request.param], SPECTRAL, N_SOURCES)


@pytest.fixture
def mixture(rng):
    return (0.1 * rng.standard_normal(1001)).astype(np.float32)


def test_output_shapes(separator, rng):
    model, name = separator.model, separator.architecture_name
    if separator.inference == "time":
        for length in (800, 801, 1237):
            out = keras.ops.convert_to_numpy(model(rng.standard_normal((1, length)).astype(np.float32)))
            assert out.shape == (1, N_SOURCES, length)
        return
    frames = 13
    out = keras.ops.convert_to_numpy(model(rng.standard_normal((1, frames, 129)).astype(np.float32)))
    if separator.inference == "mask":
        assert out.shape == (1, frames, 129, N_SOURCES)
        assert out.min() >= 0 and out.max() <= 1
    else:
        assert name == "dpcl"
        assert out.shape == (1, frames, 129, SECTIONS["dpcl"]["embedding_dim"])
        np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-5)


def test_separate_keeps_length(separator, mixture):
    result = separator.separate(mixture)
    assert result.sources.shape == (N_SOURCES, len(mixture))
    assert np.all(np.isfinite(result.sources))
    if separator.inference != "time":
        assert result.masks.shape == (N_SOURCES, 1 + len(mixture) // 64, 129)
        assert result.masks.min() >= 0 and result.masks.max() <= 1
    if separator.inference == "clustering":
        np.testing.assert_array_equal(result.masks.sum(axis=0), 1.0)
        assert separator.separate(mixture, n_sources=3).sources.shape == (3, len(mixture))


def test_save_load_round_trip(separator, mixture, tmp_path):
    before = separator.separate(mixture).sources
    separator.save(tmp_path / "model")
    loaded = Separator.load(tmp_path / "model")
    assert loaded.architecture_name == separator.architecture_name and loaded.n_sources == N_SOURCES
    assert loaded.spectral.to_dict() == SPECTRAL.to_dict()
    np.testing.assert_allclose(loaded.separate(mixture).sources, before, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_load_empty_dir(tmp_path):
    with pytest.raises(CocktailError, match=str(tmp_path)):
        Separator.load(tmp_path)


def test_cluster_masks_recovers_two_directions(rng):
    frames, bins = 6, 10
    groups = rng.integers(0, 2, size=(frames, bins))
    directions = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    embeddings = directions[groups] + 0.01 * rng.standard_normal((frames, bins, 3))
    active = np.ones((frames, bins))
    active[0] = 0  # inactive bins still get a label
    masks = cluster_masks(embeddings, active, 2)
    assert masks.shape == (2, frames, bins)
    np.testing.assert_array_equal(masks.sum(axis=0), 1)
    truth = np.stack([groups == 0, groups == 1]).astype(np.float32)
    assert np.array_equal(masks, truth) or np.array_equal(masks, truth[::-1])


def test_convtasnet_output_does_not_shift_with_input_length():
    """A length that is not a multiple of the encoder stride must not misalign encoder and decoder."""
    section = {"N": 16, "L": 16, "B": 8, "Sc": 8, "H": 8, "P": 3, "X": 2, "R": 1}
    model = ARCHITECTURES["convtasnet"].build(section, 129, 2)
    x = np.random.default_rng(0).standard_normal(1600).astype(np.float32)
    reference = np.asarray(model(x[None]))[0]
    for extra in (1, 3, 5):
        padded = np.asarray(model(np.pad(x, (0, extra))[None]))[0]
        assert np.abs(padded[:, :1500] - reference[:, :1500]).max() < 0.01 * np.abs(reference).max()
