"""Noisy and reverberant mixtures as the mix stage draws them (mix.noise, mix.reverb): the noise is at the drawn SNR
and part of no target, the direct-path target lines up with the mixture, the oracle leaves the noise out, and bad
settings are named."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from test_mixing import SR, tiny_corpus

from cocktail.constants import EPS
from cocktail.data.mixing import mixture_stream, random_mixtures, split_acoustics, split_rng
from cocktail.data.mixture_set import MixtureSet
from cocktail.dsp.masks import ideal_ratio_mask
from cocktail.dsp.stft import StftConfig, istft, stft
from cocktail.errors import CocktailError
from cocktail.params import Params
from cocktail.scoring.metrics import si_snr_np
from cocktail.scoring.oracle import interference, oracle_estimates

DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())


def sections(**mix_overrides) -> tuple:
    params = Params({"mix": {**DEFAULTS["mix"], **mix_overrides}, "noise": DEFAULTS["noise"]})
    return params.section("mix"), params.section("noise")


def draw(audio, manifest, count=4, seed=0, **mix_overrides) -> MixtureSet:
    mix, noise = sections(**mix_overrides)
    acoustics = split_acoustics(mix, noise, "train", 2, SR, seed)
    stream = random_mixtures(
        audio, manifest, "train", count, 2, 5.0, "min", SR, split_rng(seed, "train"), acoustics=acoustics,
    )
    return MixtureSet.from_stream(stream)


def power_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


@pytest.fixture
def corpus(rng):
    return tiny_corpus(rng, per_speaker=3)


def test_dry_and_clean_settings_draw_exactly_the_plain_mixtures(corpus):
    audio, manifest = corpus
    plain = MixtureSet.from_stream(random_mixtures(audio, manifest, "train", 4, 2, 5.0, "min", SR, split_rng(0, "train")))
    assert split_acoustics(*sections(), "train", 2, SR, 0) is None
    same = draw(audio, manifest)
    for a, b in zip(plain.mixtures + plain.sources, same.mixtures + same.sources):
        np.testing.assert_array_equal(a, b)
    assert list(same.table.columns) == list(plain.table.columns)


def test_noise_is_at_the_drawn_snr_against_the_loudest_source_and_in_no_target(corpus):
    audio, manifest = corpus
    noisy = draw(audio, manifest, count=6, noise=True, noise_snr_db=[-6, 3])
    plain = draw(audio, manifest, count=6)
    for i, (mixture, sources) in enumerate(zip(noisy.mixtures, noisy.sources)):
        noise = mixture.astype(np.float64) - sources.astype(np.float64).sum(axis=0)
        measured = max(power_db(s) for s in sources) - power_db(noise)
        asked = noisy.table.at[i, "noise_snr_db"]
        assert -6 <= asked <= 3
        assert abs(measured - asked) < 0.5
        # the targets are the clean sources, up to the common peak gain
        assert si_snr_np(sources, plain.sources[i]).min() > 60
    assert noisy.table["noise_snr_db"].nunique() == len(noisy)
    assert noisy.table["utt_ids"].equals(plain.table["utt_ids"])  # the noisy set holds the clean set's speech


def test_direct_path_targets_line_up_with_the_reverberant_mixture(corpus):
    audio, manifest = corpus
    wet = draw(audio, manifest, count=3, reverb=True, rt60=[0.2, 0.4], rooms=2, target="direct")
    assert wet.table["rt60"].between(0.2, 0.4).all()
    for mixture, sources in zip(wet.mixtures, wet.sources):
        for target in sources:
            full = np.correlate(mixture.astype(np.float64), target.astype(np.float64), mode="full")
            assert np.argmax(np.abs(full)) - (len(target) - 1) == 0
        assert interference(mixture, sources) is not None  # the reverberation belongs to no direct-path target


def test_reverberant_targets_sum_to_the_mixture_without_noise(corpus):
    audio, manifest = corpus
    wet = draw(audio, manifest, count=2, reverb=True, rt60=[0.2, 0.3], rooms=1, target="reverberant")
    for mixture, sources in zip(wet.mixtures, wet.sources):
        np.testing.assert_allclose(sources.sum(axis=0), mixture, atol=1e-6)
        assert interference(mixture, sources) is None


def test_noisy_reverberant_mixtures_are_reproducible(corpus):
    audio, manifest = corpus
    settings = dict(noise=True, reverb=True, rt60=[0.2, 0.3], rooms=2)
    a, b = draw(audio, manifest, count=2, **settings), draw(audio, manifest, count=2, **settings)
    for x, y in zip(a.mixtures + a.sources, b.mixtures + b.sources):
        np.testing.assert_array_equal(x, y)


def test_the_oracle_leaves_the_noise_out(corpus):
    audio, manifest = corpus
    noisy = draw(audio, manifest, count=3, noise=True, noise_snr_db=[0, 0])
    cfg = StftConfig(n_fft=256, hop_length=64)
    for estimate, mixture, sources in zip(oracle_estimates(noisy, "irm", cfg), noisy.mixtures, noisy.sources):
        spec = stft(mixture, cfg)
        noise_shared_out = istft(ideal_ratio_mask(np.abs(stft(sources, cfg)) + EPS) * spec[None], cfg, len(mixture))
        assert si_snr_np(estimate, sources).mean() > si_snr_np(noise_shared_out, sources).mean() + 1


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"noise": True, "noise_snr_db": [3, -6]}, "mix.noise_snr_db"),
        ({"noise": True, "noise_snr_db": 3}, "mix.noise_snr_db"),
        ({"noise": "yes"}, "mix.noise"),
        ({"reverb": 1}, "mix.reverb"),
        ({"reverb": True, "rt60": [1.0, 0.1]}, "mix.rt60"),
        ({"reverb": True, "rt60": [0.001, 0.002]}, "mix.rt60"),
    ],
)
def test_bad_settings_name_the_key(overrides, key):
    with pytest.raises(CocktailError, match=key.replace(".", r"\.")):
        split_acoustics(*sections(**overrides), "train", 2, SR, 0)


def test_a_corpus_with_its_own_mixtures_refuses_added_noise(corpus):
    audio, manifest = corpus
    mix, noise = sections(noise=True)
    with pytest.raises(CocktailError, match="mix.noise"):
        mixture_stream(audio, manifest, mix, noise, "train", 2, SR, 0, mix_list=manifest.iloc[:0])
