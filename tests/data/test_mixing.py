import numpy as np
import pandas as pd
import pytest

from cocktail.data.mixing import fit_length, listed_mixture_stream, random_mixtures, split_rng
from cocktail.data.mixture_set import MixtureSet, write_mixtures
from cocktail.data.prepare import assign_speaker_splits, build_manifest
from cocktail.errors import CocktailError

SR = 8000


def make_mixtures(audio, manifest, split, count, n_sources, ratio_db, length, sample_rate, seed, classes=None):
    """A split drawn as the mix stage draws it, held in memory."""
    stream = random_mixtures(audio, manifest, split, count, n_sources, ratio_db, length, sample_rate, split_rng(seed, split), classes)
    return MixtureSet.from_stream(stream)


def listed_mixtures(audio, manifest, table, split, count, n_sources, sample_rate):
    return MixtureSet.from_stream(listed_mixture_stream(audio, manifest, table, split, count, n_sources, sample_rate))


def tiny_corpus(rng, n_speakers=4, per_speaker=2, silent=()):
    audio, rows = [], []
    for s in range(n_speakers):
        for u in range(per_speaker):
            i = len(audio)
            length = int(rng.integers(600, 1200))
            audio.append(np.zeros(length, np.float32) if i in silent else (0.1 * rng.standard_normal(length)).astype(np.float32))
            rows.append(
                {
                    "utt_id": f"u{i:06d}",
                    "speaker": f"spk{s}",
                    "gender": "FM"[s % 2],
                    "duration": length / SR,
                    "origin": f"corpus/spk{s}/utt{u}.wav",
                    "text": "",
                    "split": "train",
                    "split_by": "speakers",
                }
            )
    return audio, pd.DataFrame(rows)


def mix(audio, manifest, count=6, n_sources=2, length="min", seed=0, ratio_db=5.0):
    return make_mixtures(audio, manifest, "train", count, n_sources, ratio_db, length, SR, seed)


def test_same_seed_same_mixtures(rng):
    audio, manifest = tiny_corpus(rng)
    a, b = mix(audio, manifest, seed=3), mix(audio, manifest, seed=3)
    pd.testing.assert_frame_equal(a.table, b.table)
    for x, y in zip(a.mixtures + a.sources, b.mixtures + b.sources):
        np.testing.assert_array_equal(x, y)
    c = mix(audio, manifest, seed=4)
    assert not a.table["utt_ids"].equals(c.table["utt_ids"]) or not a.table["ratio_db"].equals(c.table["ratio_db"])


def test_sources_come_from_named_utterances_of_different_speakers(rng):
    audio, manifest = tiny_corpus(rng)
    mixset = mix(audio, manifest, count=8)
    assert len(mixset) == 8 and mixset.n_sources == 2
    by_id = dict(zip(manifest["utt_id"], manifest.index))
    for sources, row in zip(mixset.sources, mixset.table.itertuples()):
        speakers = row.speakers.split()
        assert len(set(speakers)) == 2
        for source, utt_id, speaker in zip(sources, row.utt_ids.split(), speakers):
            assert manifest.at[by_id[utt_id], "speaker"] == speaker
            original = audio[by_id[utt_id]][: len(source)]
            gain = np.dot(source, original) / np.dot(original, original)
            np.testing.assert_allclose(source, gain * original, atol=1e-5)


def test_ratio_and_sum(rng):
    audio, manifest = tiny_corpus(rng)
    mixset = mix(audio, manifest, count=10, ratio_db=5.0)
    for mixture, sources, ratio in zip(mixset.mixtures, mixset.sources, mixset.table["ratio_db"]):
        measured = 10 * np.log10(np.mean(sources[0].astype(np.float64) ** 2) / np.mean(sources[1].astype(np.float64) ** 2))
        assert -5.0 <= measured <= 5.0
        assert measured == pytest.approx(ratio, abs=1e-3)
        np.testing.assert_allclose(mixture, sources.sum(axis=0), atol=1e-6)
        assert max(np.abs(mixture).max(), np.abs(sources).max()) == pytest.approx(0.9, abs=1e-6)


def test_min_length_is_the_shorter_source(rng):
    audio, manifest = tiny_corpus(rng)
    by_id = dict(zip(manifest["utt_id"], manifest.index))
    mixset = mix(audio, manifest)
    for mixture, sources, row in zip(mixset.mixtures, mixset.sources, mixset.table.itertuples()):
        shortest = min(len(audio[by_id[u]]) for u in row.utt_ids.split())
        assert mixture.shape == (shortest,) and sources.shape == (2, shortest)
        assert row.duration == pytest.approx(shortest / SR, abs=1e-4)


def test_fixed_length_in_seconds(rng):
    audio, manifest = tiny_corpus(rng)  # utterances are 600..1199 samples: some cropped, some padded
    mixset = mix(audio, manifest, count=8, length=0.1)
    for mixture, sources in zip(mixset.mixtures, mixset.sources):
        assert mixture.shape == (800,) and sources.shape == (2, 800)


def test_three_sources(rng):
    audio, manifest = tiny_corpus(rng)
    mixset = mix(audio, manifest, n_sources=3)
    assert all(s.shape[0] == 3 for s in mixset.sources)
    assert all(len(set(r.split())) == 3 for r in mixset.table["speakers"])


def test_silent_utterance_names_its_origin(rng):
    audio, manifest = tiny_corpus(rng, n_speakers=2, per_speaker=1, silent={1})
    with pytest.raises(CocktailError, match="corpus/spk1/utt0.wav"):
        mix(audio, manifest, count=1)


def test_too_few_speakers(rng):
    audio, manifest = tiny_corpus(rng, n_speakers=2)
    with pytest.raises(CocktailError, match="n_sources"):
        mix(audio, manifest, n_sources=3)


def speakers_table(n_female, n_male):
    names = [f"F{i}" for i in range(n_female)] + [f"M{i}" for i in range(n_male)]
    return pd.DataFrame({"speaker": names, "gender": [n[0] for n in names]})


def test_speaker_splits_disjoint_with_requested_counts():
    speakers = speakers_table(3, 7)
    split = assign_speaker_splits(speakers, n_valid=2, n_test=3, seed=0)
    assert set(split) == set(speakers["speaker"])
    counts = pd.Series(split).value_counts()
    assert counts["test"] == 3 and counts["valid"] == 2 and counts["train"] == 5
    test_genders = {s[0] for s, part in split.items() if part == "test"}
    assert test_genders == {"F", "M"}
    assert assign_speaker_splits(speakers, 2, 3, seed=0) == split


def test_speaker_splits_refuse_no_training_speaker():
    with pytest.raises(CocktailError, match="valid_speakers"):
        assign_speaker_splits(speakers_table(2, 2), n_valid=2, n_test=2, seed=0)


def record(speaker: str, split: str = "") -> dict:
    return {"speaker": speaker, "gender": speaker[0], "duration": 0.01, "origin": f"{speaker}.wav", "text": "", "split": split}


def test_build_manifest_open_set_never_shares_speakers():
    records = [record(f"{'FM'[i % 2]}{i % 6}") for i in range(18)]
    manifest = build_manifest(records, "open", n_valid=1, n_test=2, seed=0)
    assert (manifest.groupby("speaker")["split"].nunique() == 1).all()
    assert manifest.drop_duplicates("speaker")["split"].value_counts().to_dict() == {"train": 3, "test": 2, "valid": 1}


@pytest.mark.parametrize("speaker_set", ["open", "closed"])
def test_build_manifest_keeps_the_corpus_own_test_split(speaker_set):
    """TIMIT-like: TEST speakers are the test split; validation comes from the open (TRAIN) speakers only."""
    records = [record(f"F{i % 4}") for i in range(12)] + [record(f"M{i % 4}") for i in range(12)]
    records += [record("FT", "test"), record("MT", "test")]
    manifest = build_manifest(records, speaker_set, n_valid=2, n_test=3, seed=0)
    assert set(manifest.loc[manifest["split"] == "test", "speaker"]) == {"FT", "MT"}
    assert set(manifest.loc[manifest["split_by"] == "corpus", "speaker"]) == {"FT", "MT"}
    assert (manifest["split"] == "valid").any()
    assert set(manifest["split"]) == {"train", "valid", "test"}


def test_build_manifest_refuses_unknown_speaker_set():
    with pytest.raises(CocktailError, match="corpus.speaker_set"):
        build_manifest([record("F1"), record("M1")], "half", 0, 0, 0)


def test_classes_fix_the_source_order(rng):
    audio, manifest = tiny_corpus(rng, n_speakers=4, per_speaker=3)
    mixset = make_mixtures(audio, manifest, "train", 6, 2, 5.0, "min", SR, 0, classes=["spk2", "spk0"])
    assert all(row.speakers == "spk2 spk0" for row in mixset.table.itertuples())
    with pytest.raises(CocktailError, match="mix.classes.*missing: wind"):
        make_mixtures(audio, manifest, "train", 2, 2, 5.0, "min", SR, 0, classes=["spk1", "wind"])


def test_listed_mixtures_use_the_listed_snrs_and_the_shorter_length(rng):
    audio, manifest = tiny_corpus(rng)
    table = pd.DataFrame(
        {"split": ["train", "train"], "mix_id": ["a", "b"], "utt_ids": ["u000000 u000002", "u000004 u000006"],
         "snr_db": ["2.5 -2.5", ""]}
    )
    mixset = listed_mixtures(audio, manifest, table, "train", 10, 2, SR)
    assert list(mixset.table["mix_id"]) == ["a", "b"]
    n = min(len(audio[0]), len(audio[2]))
    assert len(mixset.mixtures[0]) == n
    gains = [np.dot(src, a[:n]) / np.dot(a[:n], a[:n]) for src, a in zip(mixset.sources[0], (audio[0], audio[2]))]
    rms = [np.sqrt(np.mean(audio[0] ** 2)), np.sqrt(np.mean(audio[2] ** 2))]  # levels of the whole utterances, as wsj0-2mix
    assert 20 * np.log10(gains[0] * rms[0] / (gains[1] * rms[1])) == pytest.approx(5.0, abs=1e-3)
    np.testing.assert_allclose(mixset.mixtures[0], mixset.sources[0].sum(axis=0), atol=1e-6)
    as_given = mixset.sources[1][0] / audio[4][: len(mixset.mixtures[1])]
    np.testing.assert_allclose(as_given, as_given[0], rtol=1e-4)  # premixed sources are only scaled to the peak
    assert len(listed_mixtures(audio, manifest, table, "train", 1, 2, SR)) == 1
    with pytest.raises(CocktailError, match="mix.n_sources"):
        listed_mixtures(audio, manifest, table, "train", 10, 3, SR)


@pytest.mark.parametrize("length", ["max", -1.0, 0])
def test_bad_length_names_the_key(length):
    with pytest.raises(CocktailError, match="mix.length"):
        fit_length([np.ones(100, np.float32)], length, 8000, np.random.default_rng(0))


def test_mixtures_written_as_shards_read_back_in_order(rng, tmp_path):
    audio, manifest = tiny_corpus(rng, n_speakers=4, per_speaker=3)
    drawn = mix(audio, manifest, count=12)
    table = write_mixtures(tmp_path / "train", zip(drawn.mixtures, drawn.sources, drawn.table.to_dict("records")), 10_000)
    assert table["shard"].nunique() > 1 and table["shard"].is_monotonic_increasing
    loaded = MixtureSet.load(tmp_path / "train")
    assert list(loaded.table["mix_id"]) == list(drawn.table["mix_id"])
    for a, b in zip(loaded.sources, drawn.sources):
        np.testing.assert_array_equal(a, b)


def test_a_damaged_mixture_shard_is_named(rng, tmp_path):
    audio, manifest = tiny_corpus(rng, n_speakers=4, per_speaker=3)
    drawn = mix(audio, manifest, count=12)
    write_mixtures(tmp_path / "train", zip(drawn.mixtures, drawn.sources, drawn.table.to_dict("records")), 10_000)
    shard = tmp_path / "train" / "mixtures-00001.npz"
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(CocktailError, match="mixtures-00001.npz is truncated or corrupt"):
        MixtureSet.load(tmp_path / "train")
    shard.unlink()
    with pytest.raises(CocktailError, match="mixtures-00001.npz is missing"):
        MixtureSet.load(tmp_path / "train")
