import numpy as np
import pandas as pd
import pytest

from cocktail.data.features import FeatureShards, RunningMoments, mixture_examples, stack_examples, window_starts, write_features
from cocktail.data.mixture_set import MixtureSet
from cocktail.dsp.masks import ideal_binary_mask, voice_activity_weights
from cocktail.dsp.spectral import Normaliser
from cocktail.dsp.stft import StftConfig, stft
from cocktail.errors import CocktailError

CFG = StftConfig()
CHUNK, SEGMENT = 20, 1600


def build_features(mixset, cfg, vad_db, chunk_frames, segment_samples):
    """Every example of a small split in memory, in the order the features stage writes them."""
    chunks, segments = [], []
    for mixture, sources in zip(mixset.mixtures, mixset.sources):
        mixture_chunks, mixture_segments = mixture_examples(mixture, sources, cfg, vad_db, chunk_frames, segment_samples)
        chunks.extend(mixture_chunks)
        segments.extend(mixture_segments)
    return {**stack_examples(chunks), **stack_examples(segments)}


def n_windows(total, size):
    return 1 if total <= size else -(-total // size)


@pytest.fixture
def mixset(rng):
    sources = [(0.1 * rng.standard_normal((2, n))).astype(np.float32) for n in (7000, 3000, 900)]
    table = pd.DataFrame({"mix_id": ["a", "b", "c"]})
    return MixtureSet([s.sum(axis=0) for s in sources], sources, table)


def test_shapes(mixset):
    feats = build_features(mixset, CFG, 40.0, CHUNK, SEGMENT)
    frames = [1 + len(m) // CFG.hop_length for m in mixset.mixtures]
    n_chunks = sum(n_windows(t, CHUNK) for t in frames)
    n_segments = sum(n_windows(len(m), SEGMENT) for m in mixset.mixtures)
    assert n_chunks == 6 + 3 + 1
    assert feats["log_mag"].shape == (n_chunks, CHUNK, 129)
    assert feats["src_mag"].shape == (n_chunks, CHUNK, 129, 2)
    assert feats["ibm"].shape == (n_chunks, CHUNK, 129, 2)
    assert feats["vad"].shape == (n_chunks, CHUNK, 129)
    assert feats["mix_wave"].shape == (n_segments, SEGMENT)
    assert feats["src_wave"].shape == (n_segments, 2, SEGMENT)
    assert feats["ibm"].dtype == np.uint8 and feats["vad"].dtype == np.uint8


def test_targets_match_masks(mixset):
    feats = build_features(mixset, CFG, 40.0, CHUNK, SEGMENT)
    assert set(np.unique(feats["vad"])) <= {0, 1}
    assert set(np.unique(feats["ibm"])) <= {0, 1}
    # the first chunk is the first mixture's first CHUNK frames
    mag = np.abs(stft(mixset.sources[0], CFG))
    np.testing.assert_array_equal(feats["ibm"][0], np.moveaxis(ideal_binary_mask(mag), 0, -1)[:CHUNK])
    mix_mag = np.abs(stft(mixset.mixtures[0], CFG))
    np.testing.assert_array_equal(feats["vad"][0], voice_activity_weights(mix_mag, 40.0)[:CHUNK])
    np.testing.assert_array_equal(feats["mix_wave"][0], mixset.mixtures[0][:SEGMENT])
    np.testing.assert_array_equal(feats["src_wave"][0], mixset.sources[0][:, :SEGMENT])


def test_ibm_one_hot_on_real_frames_and_padding_is_silent(mixset):
    feats = build_features(mixset, CFG, 40.0, CHUNK, SEGMENT)
    real_frames = 1 + 900 // CFG.hop_length  # the last mixture is shorter than one chunk
    np.testing.assert_array_equal(feats["ibm"][:-1].sum(axis=-1), 1)
    np.testing.assert_array_equal(feats["ibm"][-1, :real_frames].sum(axis=-1), 1)
    assert not feats["vad"][-1, real_frames:].any()
    assert not feats["mix_wave"][-1, 900:].any()


@pytest.mark.parametrize("total,size", [(1, 5), (5, 5), (6, 5), (10, 5), (11, 5), (103, 20), (250, 100)])
def test_window_starts_cover_every_frame(total, size):
    starts = window_starts(total, size)
    assert starts[0] == 0 and len(starts) == n_windows(total, size)
    covered = np.zeros(total, bool)
    for s in starts:
        assert 0 <= s and (s + size <= total or total <= size)
        covered[s : s + size] = True
    assert covered.all()


def fitted(log_mags: np.ndarray, batches: int = 1) -> Normaliser:
    moments = RunningMoments()
    for part in np.array_split(log_mags, batches):
        moments.add(part)
    return moments.normaliser()


def test_normaliser_fit(rng):
    log_mags = (rng.standard_normal((4, 30, 129)) * np.linspace(0.5, 3, 129) + np.linspace(-8, 2, 129)).astype(np.float32)
    norm = fitted(log_mags)
    out = norm(log_mags).reshape(-1, 129)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)
    assert Normaliser.from_dict(norm.to_dict()).mean.tolist() == norm.mean.tolist()


def test_normaliser_from_batches_equals_one_pass(rng):
    """The features stage merges the statistics shard by shard; the result must not depend on how it was cut."""
    log_mags = (rng.standard_normal((7, 30, 129)) * 2 - 5).astype(np.float16)
    whole = log_mags.reshape(-1, 129).astype(np.float64)
    merged = fitted(log_mags, batches=4)
    np.testing.assert_allclose(merged.mean, whole.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(merged.std, whole.std(axis=0), rtol=1e-6)


def test_normaliser_constant_bin_does_not_divide_by_zero():
    norm = fitted(np.full((2, 3, 4), 5.0, np.float32))
    assert np.all(norm.std > 0)
    assert np.all(np.isfinite(norm(np.full((1, 4), 5.0, np.float32))))


def test_features_written_as_shards_equal_the_whole_split(mixset, tmp_path):
    """Shards of a few kilobytes: many files, the same examples in the same order, and the index counts them."""
    counts = write_features(zip(mixset.mixtures, mixset.sources), tmp_path / "train", CFG, 40.0, CHUNK, SEGMENT, 20_000)
    whole = build_features(mixset, CFG, 40.0, CHUNK, SEGMENT)
    shards = FeatureShards.open(tmp_path / "train")
    assert len(counts["spectral"]) > 1 and shards.examples("spectral") == len(whole["log_mag"])
    for kind, keys in (("spectral", ("log_mag", "ibm")), ("waveform", ("mix_wave", "src_wave"))):
        loaded = [shards.load(kind, i) for i in range(len(counts[kind]))]
        for key in keys:
            np.testing.assert_array_equal(np.concatenate([shard[key] for shard in loaded]), whole[key])


def test_a_missing_or_truncated_feature_shard_is_named(mixset, tmp_path):
    write_features(zip(mixset.mixtures, mixset.sources), tmp_path / "train", CFG, 40.0, CHUNK, SEGMENT, 20_000)
    second = tmp_path / "train" / "spectral-00001.npz"
    data = second.read_bytes()
    second.write_bytes(data[: len(data) // 2])
    with pytest.raises(CocktailError, match="spectral-00001.npz is truncated or corrupt"):
        FeatureShards.open(tmp_path / "train").load("spectral", 1)
    second.unlink()
    with pytest.raises(CocktailError, match="spectral-00001.npz is missing"):
        FeatureShards.open(tmp_path / "train")
