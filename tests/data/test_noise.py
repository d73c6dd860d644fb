"""The noise mix.noise adds: generated offline and the same for a seed, or read from a corpus, never shared between splits."""

import shutil
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import welch

from cocktail.data.corpora import wordlist
from cocktail.data.corpora.synthetic import ACCENTS
from cocktail.data.noise import (
    BABBLE_LANGUAGES,
    KINDS,
    NOISE_NAMES,
    TALKERS,
    babble_texts,
    babble_voices,
    coloured,
    envelope,
    noise_pool,
)
from cocktail.data.prepared_data import SPLITS
from cocktail.dsp.audio import is_silent, read_audio
from cocktail.errors import CocktailError

SR = 8000
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the generated babble")


def generated(split: str, seed: int = 0):
    return noise_pool("generated", "unused", split, SR, seed, 0.1, 0.1)


@pytest.fixture(scope="module")
def pools():
    """The generated noise of each split for seed 0, and of train for seed 1."""
    return {**{split: generated(split) for split in SPLITS}, "train_seed1": generated("train", 1)}


def draws(pool, seed: int = 7, lengths=(1, 7, 800, 8000, 32000)) -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(seed)
    return [pool.draw_with_origin(n, rng) for n in lengths for _ in range(4)]


def write(path: Path, audio: np.ndarray, rate: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate, subtype="FLOAT")
    return path


def noise_file(path: Path, seconds: float = 0.5, rate: int = SR, channels: int = 1) -> Path:
    """Distinct noise in every file, seeded by its path."""
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))
    audio = 0.1 * rng.standard_normal((int(seconds * rate), channels))
    return write(path, audio[:, 0] if channels == 1 else audio, rate)


def folder_tree(root: Path, classes: int = 3, per_class: int = 7) -> Path:
    for c in range(classes):
        for k in range(per_class):
            noise_file(root / f"class{c}" / f"c{c}_{k}.wav")
    return root


def file_pools(name: str, root: Path, seed: int = 0, valid_share: float = 0.2, test_share: float = 0.2, **folds):
    return {split: noise_pool(name, root, split, SR, seed, valid_share, test_share, **folds) for split in SPLITS}


@needs_espeak
def test_generated_noise_is_bit_identical_for_a_seed(pools):
    rebuilt = generated("train")
    for (a, origin_a), (b, origin_b) in zip(draws(pools["train"]), draws(rebuilt)):
        assert origin_a == origin_b and a.tobytes() == b.tobytes()
    assert all(x.tobytes() == y.tobytes() for x, y in zip(pools["train"].talkers, rebuilt.talkers))


@needs_espeak
def test_generated_noise_differs_between_splits_and_seeds(pools):
    """Even drawn with equal generators: the pool's seed and split are mixed into every draw."""
    heard = {name: [audio.tobytes() for audio, _ in draws(pool, lengths=(800, 8000))] for name, pool in pools.items()}
    for name, other in [("train", "valid"), ("train", "test"), ("valid", "test"), ("train", "train_seed1")]:
        assert not set(heard[name]) & set(heard[other]), (name, other)


@needs_espeak
def test_draws_are_float64_at_unit_rms_and_of_the_length_asked(pools):
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 800, 8000, 40000, 250000):  # the last is longer than any babble voice: they loop
        for _ in range(3):
            audio = pools["test"].draw(n, rng)
            assert audio.dtype == np.float64 and audio.shape == (n,)
            assert np.all(np.isfinite(audio)) and not is_silent(audio)
            assert np.sqrt(np.mean(audio**2)) == pytest.approx(1.0, rel=1e-9)


@needs_espeak
def test_draws_cover_every_kind_and_babble_has_four_to_eight_talkers(pools):
    origins = [origin for _, origin in draws(pools["valid"], lengths=(8000,) * 15)]
    assert {origin.split(":")[0] for origin in origins} == set(KINDS)
    for origin in origins:
        if origin.startswith("babble"):
            talkers = origin.split(": ")[1].split()
            assert TALKERS[0] <= len(talkers) <= TALKERS[1] and len(set(talkers)) == len(talkers)


@needs_espeak
def test_test_babble_is_never_heard_in_training(pools):
    """Split pools built for the same seed share no language, voice, sentence or talker's audio; draws name their own voices."""
    recipes = {split: {v.recipe for v in pools[split].voices} for split in SPLITS}
    languages = {split: {v.voice.split("+")[0] for v in pools[split].voices} for split in SPLITS}
    talkers = {split: {a.tobytes() for a in pools[split].talkers} for split in SPLITS}
    for first, second in [("train", "valid"), ("train", "test"), ("valid", "test")]:
        assert not recipes[first] & recipes[second]
        assert not languages[first] & languages[second]
        assert not talkers[first] & talkers[second]
        assert not set(babble_texts(0, first)) & set(babble_texts(0, second))
    names = {v.name for v in pools["test"].voices}
    for _, origin in draws(pools["test"], lengths=(8000,) * 10):
        if origin.startswith("babble"):
            assert set(origin.split(": ")[1].split()) <= names


def test_babble_voices_are_split_apart_for_every_seed_and_speak_no_english():
    for seed in range(20):
        cast = {split: babble_voices(seed, split) for split in SPLITS}
        languages = {split: {v.voice.split("+")[0] for v in voices} for split, voices in cast.items()}
        assert not languages["train"] & languages["valid"] and not (languages["train"] | languages["valid"]) & languages["test"]
        assert all(lang in BABBLE_LANGUAGES and lang not in ACCENTS for langs in languages.values() for lang in langs)
        assert all(len({v.recipe for v in voices}) == len(voices) >= TALKERS[1] for voices in cast.values())
    assert babble_voices(0, "test") != babble_voices(1, "test")


@needs_espeak
def test_babble_languages_speak_no_word_of_the_grammar_in_english():
    """espeak-ng switches to English for words its dictionary marks English, which `-x` shows as "(en)"."""
    parts = (wordlist.DETERMINERS, wordlist.ADJECTIVES, wordlist.NOUNS, wordlist.VERBS, wordlist.INTRANSITIVE_VERBS,
             wordlist.ADVERBS, wordlist.PREPOSITIONS, wordlist.PLACES, wordlist.NAMES, wordlist.TIMES)
    words = " . ".join(" ".join(part) for part in parts)
    def phonemes(language: str) -> str:
        return subprocess.run(["espeak-ng", "-q", "-x", "-v", language, words], capture_output=True, text=True, check=True).stdout

    with ThreadPoolExecutor() as pool:
        for language, spoken in zip(BABBLE_LANGUAGES, pool.map(phonemes, BABBLE_LANGUAGES)):
            assert "(en)" not in spoken, language


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.0])
def test_coloured_noise_falls_as_one_over_f_to_the_alpha(alpha):
    audio = coloured(4 * SR, alpha, SR, np.random.default_rng(0))
    freqs, power = welch(audio, SR, nperseg=512)
    band = (freqs >= 200) & (freqs <= 3000)
    slope = np.polyfit(np.log(freqs[band]), np.log(power[band]), 1)[0]
    assert slope == pytest.approx(-alpha, abs=0.15)


def test_modulation_envelope_is_slow_and_spans_at_most_its_depth():
    gain = envelope(4 * SR, 2.0, 18.0, SR, np.random.default_rng(0))
    span_db = 20 * np.log10(gain.max() / gain.min())
    assert 3.0 < span_db <= 18.0
    assert np.max(np.abs(np.diff(20 * np.log10(gain)))) < 18.0 * np.pi * 2.0 / SR  # no step faster than a 2 Hz half cosine


def test_folder_noise_is_split_by_file(tmp_path):
    root = folder_tree(tmp_path / "noise")
    pools = file_pools("folder", root)
    files = {split: {f.origin for f in pool.files} for split, pool in pools.items()}
    assert [len(files[s]) for s in SPLITS] == [13, 4, 4]
    assert not files["train"] & files["valid"] and not (files["train"] | files["valid"]) & files["test"]
    assert files["train"] | files["valid"] | files["test"] == {p.relative_to(root).as_posix() for p in root.rglob("*.wav")}
    assert {f.origin for f in file_pools("folder", root)["test"].files} == files["test"]
    assert {f.origin for f in file_pools("folder", root, seed=1)["test"].files} != files["test"]
    rng = np.random.default_rng(0)
    for split, pool in pools.items():
        for _ in range(20):
            audio, origin = pool.draw_with_origin(1000, rng)
            assert origin.split("@")[0] in files[split] and audio.shape == (1000,)


def test_file_noise_crops_long_files_and_loops_short_ones(tmp_path):
    root = folder_tree(tmp_path / "noise", classes=1, per_class=5)
    pool = noise_pool("folder", root, "train", SR, 0, 0.2, 0.2)
    rng = np.random.default_rng(0)
    for n in (1000, 4000, 9000):  # each file holds 4000 samples
        audio, origin = pool.draw_with_origin(n, rng)
        name, start = origin.split("@")
        source = read_audio(root / name, SR).astype(np.float64)
        expected = source[(int(start) + np.arange(n)) % len(source)]
        np.testing.assert_allclose(audio, expected / np.sqrt(np.mean(expected**2)))


def test_each_draw_takes_one_number_from_the_callers_generator(tmp_path):
    """So the mixtures drawn after a noise draw do not depend on its kind or length."""
    pool = noise_pool("folder", folder_tree(tmp_path / "noise"), "train", SR, 0, 0.2, 0.2)
    rng, twin = np.random.default_rng(5), np.random.default_rng(5)
    pool.draw(5000, rng)
    twin.integers(2**63)
    assert rng.integers(10**9) == twin.integers(10**9)


@pytest.mark.parametrize("inside", [True, False])
def test_wham_noise_is_read_from_its_tr_cv_tt_folders(tmp_path, inside):
    top = tmp_path / "wham" / "wham_noise" if inside else tmp_path / "wham"
    counts = {"tr": 3, "cv": 2, "tt": 2}
    for folder, count in counts.items():
        for k in range(count):
            noise_file(top / folder / f"{folder}_{k}.wav", seconds=0.3, rate=16000, channels=2)  # WHAM!'s are stereo
    pools = file_pools("wham", tmp_path / "wham")
    for split, folder in zip(SPLITS, counts):
        assert len(pools[split].files) == counts[folder]
        assert all(f.origin.split("/")[-2] == folder for f in pools[split].files)
        audio, origin = pools[split].draw_with_origin(3000, np.random.default_rng(0))
        assert f"{folder}/" in origin and audio.shape == (3000,)


def test_esc50_noise_keeps_its_folds(tmp_path):
    root = tmp_path / "esc50"
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for fold in range(1, 6):
        for k in range(2):
            name = f"{fold}-{k}-A-0.wav"
            noise_file(root / "audio" / name, rate=44100)
            rows.append(f"{name},{fold},0,rain,False,{k},A")
    (root / "meta").mkdir()
    (root / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    pools = file_pools("esc50", root, valid_fold=2, test_fold=3)
    folds = {split: {int(f.origin.split("/")[1][0]) for f in pool.files} for split, pool in pools.items()}
    assert folds == {"train": {1, 4, 5}, "valid": {2}, "test": {3}}
    assert pools["test"].draw(8000, np.random.default_rng(0)).shape == (8000,)


def test_too_few_files_name_the_keys(tmp_path):
    root = folder_tree(tmp_path / "noise", classes=1, per_class=2)
    with pytest.raises(CocktailError) as err:
        noise_pool("folder", root, "train", SR, 0, 0.1, 0.1)
    assert all(key in str(err.value) for key in ("noise.root", "noise.valid_share", "noise.test_share"))
    more = folder_tree(tmp_path / "more")
    with pytest.raises(CocktailError, match="'noise.valid_share' .* and 'noise.test_share' .* add up to 1"):
        noise_pool("folder", more, "train", SR, 0, 0.5, 0.5)


def test_a_corpus_split_without_files_names_noise_root(tmp_path):
    for folder in ("tr", "cv"):
        noise_file(tmp_path / "wham_noise" / folder / "a.wav")
    (tmp_path / "wham_noise" / "tt").mkdir()
    with pytest.raises(CocktailError, match=r"noise.root .* no noise files for the test split \(tt/\)"):
        noise_pool("wham", tmp_path, "train", SR, 0, 0.1, 0.1)


def test_missing_root_and_wrong_layout_name_noise_root(tmp_path):
    with pytest.raises(CocktailError, match="noise.root '.*nowhere' does not exist"):
        noise_pool("wham", tmp_path / "nowhere", "train", SR, 0, 0.1, 0.1)
    noise_file(tmp_path / "flat" / "a.wav")
    for name in ("wham", "esc50", "folder"):
        with pytest.raises(CocktailError, match=f"noise.root .* does not look like noise.name '{name}'"):
            noise_pool(name, tmp_path / "flat", "train", SR, 0, 0.1, 0.1)


def test_unknown_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(CocktailError) as err:
        noise_pool("cafe", tmp_path, "train", SR, 0, 0.1, 0.1)
    assert "'noise.name' is 'cafe'" in str(err.value) and all(name in str(err.value) for name in NOISE_NAMES)


def test_silent_noise_files_are_reported(tmp_path):
    for k in range(5):
        write(tmp_path / "noise" / "hum" / f"{k}.wav", np.zeros(2000))
    pool = noise_pool("folder", tmp_path / "noise", "train", SR, 0, 0.2, 0.2)
    with pytest.raises(CocktailError, match="silent.*noise.root"):
        pool.draw(1000, np.random.default_rng(0))
