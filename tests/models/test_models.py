import keras
import numpy as np
import pytest
from conftest import KERAS_MODELS, SECTIONS, SPECTRAL
from sklearn.cluster import MeanShift, estimate_bandwidth

from cocktail.data.features import mixture_examples, stack_examples
from cocktail.engine.distribute import float32_outputs, loss_scaled, set_precision
from cocktail.errors import CocktailError
from cocktail.inference.separation import (
    Separator,
    distinct_modes,
    flat_kernel_modes,
    kmeans_centres,
    load_separator,
    meanshift_centres,
    quantile_bandwidth,
)
from cocktail.models import ARCHITECTURES
from cocktail.models.dpcl import nearest_centre_masks
from cocktail.models.nmf import DictionarySeparator

N_SOURCES = 2


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_tiny_and_reference_settings_are_the_architectures_own(name):
    arch = ARCHITECTURES[name]
    assert set(arch.tiny) == set(arch.params), "tiny settings give every key the section needs"
    assert set(arch.reference) <= set(arch.params)


@pytest.fixture(scope="module", params=KERAS_MODELS)
def separator(request):
    keras.utils.set_random_seed(0)
    return Separator.create(request.param, SECTIONS[request.param], SPECTRAL, N_SOURCES)


@pytest.fixture
def mixture(rng):
    return (0.1 * rng.standard_normal(1001)).astype(np.float32)


def test_output_shapes(separator, rng):
    model, name = separator.model, separator.architecture_name
    if separator.inference.time_domain:
        for length in (800, 801, 1237):
            out = keras.ops.convert_to_numpy(model(rng.standard_normal((1, length)).astype(np.float32)))
            assert out.shape == (1, N_SOURCES, length)
        return
    frames = 13
    out = keras.ops.convert_to_numpy(model(rng.standard_normal((1, frames, 129)).astype(np.float32)))
    if not separator.inference.clusters:
        assert out.shape == (1, frames, 129, N_SOURCES)
        assert out.min() >= 0 and out.max() <= 1
    else:
        assert out.shape == (1, frames, 129, SECTIONS[name]["embedding_dim"])
        if name != "danet":  # deep clustering embeddings have unit length; DANet's are free
            np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-5)


@pytest.fixture(params=["float32", "mixed_bfloat16"])
def precision(request):
    set_precision(request.param)
    yield request.param
    set_precision("float32")


def test_trains_a_step(separator, two_sources, precision):
    """One optimiser step on examples the features stage would store, through the architecture's own loss and pairs,
    built as the training engine builds it (float32 outputs, whatever the precision). The float32 step is traced as
    training traces it; the 16-bit one runs eagerly, which meets the same dtypes for a fifth of the time."""
    architecture = ARCHITECTURES[separator.architecture_name]
    chunks, segments = mixture_examples(two_sources.sum(axis=0), two_sources, SPECTRAL.stft, SPECTRAL.vad_db, 20, 1600)
    examples = stack_examples(segments if architecture.inference.time_domain else chunks)
    inputs, targets = architecture.training_pairs(examples, SPECTRAL.normaliser)
    model = float32_outputs(architecture.build(separator.section, 129, N_SOURCES))
    model.compile(
        loss_scaled(keras.optimizers.Adam(1e-2)), loss=architecture.loss(separator.section), run_eagerly=precision != "float32"
    )
    before = [w.copy() for w in model.get_weights()]
    assert np.isfinite(float(model.train_on_batch(inputs, targets)))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "the step changed no weight"


def test_separate_keeps_length(separator, mixture):
    result = separator.separate(mixture)
    assert result.sources.shape == (N_SOURCES, len(mixture))
    assert np.all(np.isfinite(result.sources))
    if separator.inference.gives_masks:
        assert result.masks.shape == (N_SOURCES, 1 + len(mixture) // 64, 129)
        assert result.masks.min() >= 0 and result.masks.max() <= 1
    if separator.inference.clusters:
        np.testing.assert_allclose(result.masks.sum(axis=0), 1.0, rtol=1e-5)
        assert separator.separate(mixture, n_sources=3).sources.shape == (3, len(mixture))


def test_save_load_round_trip(separator, mixture, tmp_path):
    before = separator.separate(mixture).sources
    separator.save(tmp_path / "model")
    loaded = load_separator(tmp_path / "model")
    assert loaded.architecture_name == separator.architecture_name and loaded.n_sources == N_SOURCES
    assert loaded.spectral.to_dict() == SPECTRAL.to_dict()
    np.testing.assert_allclose(loaded.separate(mixture).sources, before, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_load_empty_dir(tmp_path):
    with pytest.raises(CocktailError, match=str(tmp_path)):
        load_separator(tmp_path)


def clustered_embeddings(rng, n_groups, frames=12, bins=10, dim=3, spread=0.01):
    groups = rng.integers(0, n_groups, size=(frames, bins))
    directions = np.eye(dim)[:n_groups]
    return groups, directions[groups] + spread * rng.standard_normal((frames, bins, dim))


@pytest.mark.parametrize(("clustering", "n_groups"), [("kmeans", 2), ("kmeans", 3), ("meanshift", 2), ("meanshift", 3)])
def test_clustering_recovers_the_groups(rng, clustering, n_groups):
    """k-means given k, and mean-shift finding k itself, both give one binary mask per group."""
    groups, embeddings = clustered_embeddings(rng, n_groups)
    separator = Separator.create("dpcl", SECTIONS["dpcl"], SPECTRAL, 2)
    separator.clustering = clustering
    active = np.ones(groups.shape)
    active[0] = 0  # inactive bins still get a label
    masks = separator.embedding_masks(embeddings, active, n_groups)
    assert masks.shape == (n_groups, *groups.shape)
    np.testing.assert_array_equal(masks.sum(axis=0), 1)
    truth = {tuple((groups == g).ravel()) for g in range(n_groups)}
    assert {tuple(m.astype(bool).ravel()) for m in masks} == truth


def test_meanshift_needs_no_source_count(rng):
    _, embeddings = clustered_embeddings(rng, 3, frames=40)
    assert len(meanshift_centres(embeddings.reshape(-1, 3), quantile=0.2)) == 3
    _, single = clustered_embeddings(rng, 1, frames=40)
    assert len(meanshift_centres(single.reshape(-1, 3), quantile=0.2)) == 1


def test_meanshift_finds_the_modes_and_bandwidth_scikit_learn_finds(rng):
    """The vectorised mean shift against scikit-learn's, seed for seed, on the same points."""
    _, embeddings = clustered_embeddings(rng, 3, frames=20, spread=0.4)
    points = embeddings.reshape(-1, 3).astype(np.float64)
    bandwidth = quantile_bandwidth(points, 0.2)
    assert bandwidth == pytest.approx(estimate_bandwidth(points, quantile=0.2), rel=1e-9)
    reference = MeanShift(bandwidth=bandwidth, seeds=points[::7]).fit(points).cluster_centers_
    found = distinct_modes(*flat_kernel_modes(points, points[::7], bandwidth), bandwidth)
    np.testing.assert_allclose(sorted(map(tuple, found)), sorted(map(tuple, reference)), atol=1e-9)


def test_danet_masks_from_centres_are_soft_and_sum_to_one(rng):
    groups, embeddings = clustered_embeddings(rng, 2, spread=0.1)
    flat = embeddings.reshape(-1, 3)
    centres = kmeans_centres(flat, 2)
    for activation in ("softmax", "sigmoid"):
        masks = ARCHITECTURES["danet"].embedding_masks(flat, centres, {"mask_activation": activation})
        assert masks.shape == (2, flat.shape[0]) and masks.min() > 0 and masks.max() < 1
        if activation == "softmax":
            np.testing.assert_allclose(masks.sum(axis=0), 1.0, rtol=1e-5)
        # every bin is closest to the attractor of its own group
        own = np.argmax(masks, axis=0)
        assert len({(g, o) for g, o in zip(groups.ravel(), own)}) == 2


def test_nearest_centre_masks_are_binary():
    centres = np.array([[1.0, 0.0], [0.0, 1.0]])
    masks = nearest_centre_masks(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.5]]), centres)
    np.testing.assert_array_equal(masks, [[1, 0, 1], [0, 1, 0]])


@pytest.fixture(scope="module")
def nmf_separator():
    """Two 'speakers' with disjoint spectra (a low and a high harmonic series), three utterances each."""
    rng = np.random.default_rng(5)
    t = np.arange(4000) / 8000
    audio, rows = [], []
    for speaker, base in (("low", 200.0), ("high", 1500.0)):
        for u in range(3):
            f0 = base * (1 + 0.05 * u)
            wave = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 2)) + 0.001 * rng.standard_normal(t.size)
            audio.append((0.3 * wave).astype(np.float32))
            rows.append({"utt_id": f"{speaker}{u}", "speaker": speaker, "split": "test"})
    import pandas as pd

    manifest = pd.DataFrame(rows)
    separator = ARCHITECTURES["nmf"].learn(SECTIONS["nmf"], SPECTRAL, audio, manifest, 2, 0)
    return separator, audio


def test_nmf_learns_leave_one_out_dictionaries(nmf_separator):
    separator, _ = nmf_separator
    assert separator.utt_ids == ["high0", "high1", "high2", "low0", "low1", "low2"]
    assert separator.dictionaries.shape == (6, SECTIONS["nmf"]["components"], 129)
    assert separator.parameter_count == separator.dictionaries.size and separator.dictionaries.min() >= 0


def test_nmf_separates_known_speakers_and_round_trips(nmf_separator, tmp_path):
    separator, audio = nmf_separator
    mixture = audio[0] + audio[4]  # low0 + high1
    result = separator.separate(mixture, utt_ids=["low0", "high1"])
    assert result.sources.shape == (2, len(mixture)) and result.masks.shape[0] == 2
    np.testing.assert_allclose(result.masks.sum(axis=0), 1.0, atol=1e-4)
    for estimate, reference in zip(result.sources, (audio[0], audio[4])):
        assert np.corrcoef(estimate, reference)[0, 1] > 0.95
    separator.save(tmp_path / "model")
    loaded = load_separator(tmp_path / "model")
    assert isinstance(loaded, DictionarySeparator)
    np.testing.assert_allclose(loaded.separate(mixture, utt_ids=["low0", "high1"]).sources, result.sources, atol=1e-5)


def test_nmf_needs_the_utterance_ids(nmf_separator, rng):
    separator, audio = nmf_separator
    with pytest.raises(CocktailError, match="unknown7"):
        separator.separate(audio[0], utt_ids=["low0", "unknown7"])
    with pytest.raises(CocktailError, match="oracle speaker identity"):
        separator.separate(audio[0])


def test_convtasnet_output_does_not_shift_with_input_length():
    """A length that is not a multiple of the encoder stride must not misalign encoder and decoder."""
    section = {"N": 16, "L": 16, "B": 8, "Sc": 8, "H": 8, "P": 3, "X": 2, "R": 1}
    model = ARCHITECTURES["convtasnet"].build(section, 129, 2)
    x = np.random.default_rng(0).standard_normal(1600).astype(np.float32)
    reference = np.asarray(model(x[None]))[0]
    for extra in (1, 3, 5):
        padded = np.asarray(model(np.pad(x, (0, extra))[None]))[0]
        assert np.abs(padded[:, :1500] - reference[:, :1500]).max() < 0.01 * np.abs(reference).max()
