"""Mixtures of utterances by different speakers at a uniform source-to-source ratio, seeded; heard through simulated
rooms and with noise where mix.reverb and mix.noise ask."""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cocktail.constants import PEAK
from cocktail.data.mixture_set import MixtureSet
from cocktail.data.noise import NoisePool, noise_pool
from cocktail.data.prepared_data import MIXED, NOISE, ROLE, SPLITS
from cocktail.data.reverb import Room, check_rt60_range, draw_rooms, reverberate
from cocktail.dsp.audio import is_silent
from cocktail.errors import CocktailError
from cocktail.params import checked_choice

ROOMS, HEARING = 1, 2  # generator streams beside a split's mixture draws: the rooms, and each mixture's room and noise


def rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))


def with_rms(signal: np.ndarray, target: float) -> np.ndarray:
    return target * signal / np.sqrt(np.mean(signal**2))


def scale_to_ratio(signals: list[np.ndarray], ratio_db: float) -> list[np.ndarray]:
    """Unit-power sources, then the first louder than the rest by `ratio_db` (split evenly, as wsj0-2mix does)."""
    gains = [10 ** (ratio_db / 40), *[10 ** (-ratio_db / 40)] * (len(signals) - 1)]
    return [with_rms(s, g) for g, s in zip(gains, signals)]


def fit_length(signals: list[np.ndarray], length: str | float, sample_rate: int, rng: np.random.Generator) -> list[np.ndarray]:
    """'min' cuts to the shortest source (wsj0-2mix); a number of seconds crops a random segment or zero-pads."""
    if length == "min":
        n = min(len(s) for s in signals)
        return [s[:n] for s in signals]
    if isinstance(length, bool) or not isinstance(length, (int, float)) or length <= 0:
        raise CocktailError(f"params key 'mix.length' is {length!r}: use 'min' or a segment length in seconds, e.g. 4.0.")
    n = int(round(float(length) * sample_rate))
    fitted = []
    for s in signals:
        if len(s) >= n:
            start = int(rng.integers(0, len(s) - n + 1))
            fitted.append(s[start : start + n])
        else:
            fitted.append(np.pad(s, (0, n - len(s))))
    return fitted


def peak_normalised(
    signals: list[np.ndarray], targets: list[np.ndarray] | None = None, noise: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The mixture of the sources as heard (plus noise) and the targets, scaled together so that none peaks above
    PEAK, as wsj0-2mix does. The targets are the sources themselves unless a room gives others (direct path)."""
    targets = signals if targets is None else targets
    mixture = np.sum(signals, axis=0)
    if noise is not None:
        mixture = mixture + noise
    gain = PEAK / max(np.max(np.abs(mixture)), max(np.max(np.abs(s)) for s in targets))
    return (gain * mixture).astype(np.float32), (gain * np.stack(targets)).astype(np.float32)


@dataclass
class Acoustics:
    """What a split's mixtures are heard through beside the dry sum (mix.noise, mix.reverb): the noise that belongs
    to no source, and the rooms, drawn once per split so that test noises and rooms are never met in training."""

    noise: NoisePool | None
    noise_snr_db: tuple[float, float]
    rooms: list[Room]
    target: str
    rng: np.random.Generator  # apart from the mixtures' draws: the noisy set holds the same utterances as the clean one

    def apply(self, signals: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray | None, dict]:
        """(heard, targets, noise, record): each source through one of the rooms, then noise at a drawn SNR against
        the loudest source as heard in the mixture (WHAM!)."""
        heard, targets, record, rng = signals, signals, {}, self.rng
        if self.rooms:
            index = int(rng.integers(len(self.rooms)))
            heard, targets = reverberate(signals, self.rooms[index], self.target)
            record.update(room=index, rt60=round(self.rooms[index].rt60, 4))
        noise = None
        if self.noise is not None:
            snr = float(rng.uniform(*self.noise_snr_db))
            loudest = max(rms(h) for h in heard)
            drawn, origin = self.noise.draw_with_origin(len(heard[0]), rng)
            noise = with_rms(drawn, loudest * 10 ** (-snr / 20))
            record.update(noise_snr_db=round(snr, 4), noise=origin)
        return heard, targets, noise, record


def switch(section, key: str) -> bool:
    return checked_choice(f"mix.{key}", section[key], (True, False))


def check_snr_range(value) -> tuple[float, float]:
    numbers = isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    )
    if not numbers or value[0] > value[1]:
        raise CocktailError(
            f"params key 'mix.noise_snr_db' is {value!r}: give [low, high] in dB with low <= high, e.g. [-6, 3] (WHAM!)."
        )
    return float(value[0]), float(value[1])


def split_acoustics(mix, noise, split: str, n_sources: int, sample_rate: int, seed: int) -> Acoustics | None:
    """The noise pool and rooms of one split as the `mix` and `noise` sections ask; None for dry, clean mixtures.
    They draw from generators of their own, so switching them on leaves the speech of every mixture unchanged."""
    with_noise, with_reverb = switch(mix, "noise"), switch(mix, "reverb")
    if not (with_noise or with_reverb):
        return None
    pool = snr = None
    if with_noise:
        snr = check_snr_range(mix["noise_snr_db"])
        pool = noise_pool(
            noise["name"], noise["root"], split, sample_rate, seed, float(noise["valid_share"]), float(noise["test_share"]),
        )
    rooms = []
    if with_reverb:
        rt60 = check_rt60_range(mix["rt60"])
        rooms = draw_rooms(int(mix["rooms"]), n_sources, rt60, sample_rate, np.random.default_rng([seed, SPLITS.index(split), ROOMS]))
    hearing = np.random.default_rng([seed, SPLITS.index(split), HEARING])
    return Acoustics(pool, snr or (0.0, 0.0), rooms, mix["target"] if with_reverb else "direct", hearing)


def source_pools(rows: pd.DataFrame, split: str, n_sources: int, classes: list[str] | str) -> dict[str, np.ndarray]:
    """Each speaker's utterances; with `mix.classes`, the pools of the named classes in source order."""
    by_speaker = {spk: grp.index.to_numpy() for spk, grp in rows.groupby("speaker", sort=True)}
    if isinstance(classes, str) and classes:
        raise CocktailError(f"params key 'mix.classes' is '{classes}': give a list, one class per source, e.g. [wind, frog].")
    if classes:
        missing = [c for c in classes if c not in by_speaker]
        if len(classes) != n_sources or missing:
            raise CocktailError(
                f"params key 'mix.classes' is {classes}: it must name mix.n_sources = {n_sources} classes present in "
                f"the {split} split" + (f"; missing: {', '.join(missing)}" if missing else "")
                + f". Classes there: {', '.join(sorted(by_speaker)[:60])}."
            )
    elif len(by_speaker) < n_sources:
        if (rows["split_by"] == "corpus").all():
            advice = "Lower mix.n_sources, or give that split more speakers in the corpus itself (the reader's own params section " \
                "chooses the corpus's splits, e.g. esc50.valid_fold)"
        elif split == "train":
            advice = "Lower corpus.valid_speakers and corpus.test_speakers or lower mix.n_sources"
        else:
            advice = f"Raise corpus.{split}_speakers or lower mix.n_sources"
        raise CocktailError(
            f"the {split} split has {len(by_speaker)} speaker(s), fewer than mix.n_sources = {n_sources}. {advice}."
        )
    return by_speaker


def random_mixtures(
    audio: list[np.ndarray], manifest: pd.DataFrame, split: str, count: int, n_sources: int,
    ratio_db: float, length: str | float, sample_rate: int, rng: np.random.Generator, classes: list[str] | None = None,
    skip_silent: bool = False, acoustics: Acoustics | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, dict]]:
    """`count` mixtures of `n_sources` distinct speakers from one split (or of the named classes in that order), drawn
    one at a time: the mix stage writes them, dynamic mixing trains on them. A crop in which a source is silent stops
    the mix stage (a fixed set must not change silently) but is only skipped by dynamic mixing. With `acoustics` the
    sources are heard through a room and noise is added; the targets stay free of the noise."""
    manifest = manifest.reset_index(drop=True)  # positions index `audio`
    by_speaker = source_pools(manifest[manifest["split"] == split], split, n_sources, classes)
    speakers = sorted(by_speaker)
    for i in range(count):
        picked = classes or [speakers[c] for c in rng.choice(len(speakers), size=n_sources, replace=False)]
        utt_idx = [int(rng.choice(by_speaker[speaker])) for speaker in picked]
        ratio = float(rng.uniform(-ratio_db, ratio_db))
        signals = fit_length([audio[j] for j in utt_idx], length, sample_rate, rng)
        for j, s in zip(utt_idx, signals):
            if is_silent(s) and not skip_silent:
                raise CocktailError(
                    f"{manifest.at[j, 'origin']} ({manifest.at[j, 'utt_id']}): silent in the mixed segment, so it cannot "
                    "be a target. Remove the recording or use mix.length: min."
                )
        if any(is_silent(s) for s in signals):
            continue
        dry = scale_to_ratio(signals, ratio)
        if acoustics is None:
            mixture, scaled = peak_normalised(dry)
            heard_as = {}
        else:
            heard, targets, noise, heard_as = acoustics.apply(dry)
            mixture, scaled = peak_normalised(heard, targets, noise)
        record = {
            "mix_id": f"{split}_{i:05d}",
            "utt_ids": " ".join(manifest.loc[utt_idx, "utt_id"]),
            "speakers": " ".join(manifest.loc[utt_idx, "speaker"]),
            "ratio_db": round(ratio, 4),
            "duration": round(len(mixture) / sample_rate, 4),
            **heard_as,
        }
        yield mixture, scaled, record


def split_rng(seed: int, split: str) -> np.random.Generator:
    """The mix stage's generator for one split: the splits' draws do not depend on each other's counts."""
    return np.random.default_rng([seed, SPLITS.index(split)])


def listed_mixture_stream(
    audio: list[np.ndarray], manifest: pd.DataFrame, mix_list: pd.DataFrame, split: str, count: int, n_sources: int,
    sample_rate: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, dict]]:
    """The corpus's own mixtures, in list order. With listed SNRs (wsj0-2mix) each whole utterance is set to unit
    power and scaled by its SNR before both are cut to the shorter; without (premixed) the sources are used as
    they are. Where the list names the recordings whose sum is the mixture (premixed.task: + noise, or the reverberant
    sources), the mixture is their sum and the listed utterances are only its targets. The first `count` are taken."""

    manifest = manifest.reset_index(drop=True)
    position = {utt: i for i, utt in enumerate(manifest["utt_id"])}
    noise_rows = set(manifest.index[manifest[ROLE] == NOISE]) if ROLE in manifest else set()
    rows = mix_list[(mix_list["split"] == split) & (mix_list["utt_ids"].str.split().str.len() == n_sources)]
    if rows.empty:
        counts = sorted({len(u.split()) for u in mix_list["utt_ids"]})
        advice = "Set mix.n_sources to match." if min(counts) > 1 else (
            "One target per mixture is speech enhancement (premixed.task enh_*), which the separation models here do "
            "not learn: choose a separation premixed.task (sep_*)."
        )
        raise CocktailError(
            f"the corpus's own mixture list (mix_list.csv beside the manifest) has no {n_sources}-source mixtures in the "
            f"{split} split; it holds {', '.join(map(str, counts))}-source mixtures. {advice}"
        )
    print(f"{split}: the first {min(count, len(rows))} of {len(rows)} listed mixtures (mix.{split}_mixtures = {count})")
    for row in rows.head(count).itertuples():
        utt_idx = [position[u] for u in row.utt_ids.split()]
        mixed_idx = [position[u] for u in str(getattr(row, MIXED, "") or "").split()]
        signals = [audio[j] for j in utt_idx]
        if row.snr_db:
            signals = [with_rms(s, 10 ** (float(snr) / 20)) for snr, s in zip(row.snr_db.split(), signals)]
        heard_as = {}
        if mixed_idx:
            fitted = fit_length(signals + [audio[j] for j in mixed_idx], "min", sample_rate, None)
            signals, heard = fitted[: len(utt_idx)], fitted[len(utt_idx) :]
            mixture, scaled = peak_normalised(heard, signals)
            noise = [h for j, h in zip(mixed_idx, heard) if j in noise_rows]
            speech = [h for j, h in zip(mixed_idx, heard) if j not in noise_rows]
            if noise and speech:  # as mix.noise records it: against the loudest source as heard in the mixture
                loudest = max(rms(s) for s in speech)
                heard_as["noise_snr_db"] = round(20 * float(np.log10(loudest / rms(np.sum(noise, axis=0)))), 4)
        else:
            signals = fit_length(signals, "min", sample_rate, None)
            mixture, scaled = peak_normalised(signals)
        power = (scaled.astype(np.float64) ** 2).mean(axis=1)
        record = {
            "mix_id": row.mix_id,
            "utt_ids": row.utt_ids,
            "speakers": " ".join(manifest.loc[utt_idx, "speaker"]),
            "ratio_db": round(float(10 * np.log10(power[0] / power[1])), 4) if len(power) > 1 else float("nan"),
            "duration": round(len(mixture) / sample_rate, 4),
            **heard_as,
        }
        yield mixture, scaled, record


def mixture_stream(
    audio: list[np.ndarray], manifest: pd.DataFrame, section, noise, split: str, n_sources: int, sample_rate: int,
    seed: int, mix_list: pd.DataFrame | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, dict]]:
    """One split's mixtures as the `mix` (and `noise`) params describe them, or as the corpus lists them, one at a
    time; `n_sources` may differ for evaluation."""
    section["n_sources"]  # read (and so checked: params.RANGES) even where evaluation asks for another number
    count = section[f"{split}_mixtures"]
    if mix_list is not None:
        if switch(section, "noise") or switch(section, "reverb"):
            raise CocktailError(
                "params keys 'mix.noise' / 'mix.reverb' apply to drawn mixtures, but this corpus lists its own (wsj0.lists "
                "or a premixed corpus), which are used as they are. Set both to false; for WHAM!/WHAMR! choose the "
                "corpus's noisy or reverberant mixtures with premixed.task."
            )
        return listed_mixture_stream(audio, manifest, mix_list, split, count, n_sources, sample_rate)
    return random_mixtures(
        audio, manifest, split, count, n_sources, float(section["ratio_db"]), section["length"], sample_rate,
        split_rng(seed, split), section["classes"],
        acoustics=split_acoustics(section, noise, split, n_sources, sample_rate, seed),
    )


def mixtures_from_params(
    audio: list[np.ndarray], manifest: pd.DataFrame, section, noise, split: str, n_sources: int, sample_rate: int,
    seed: int, mix_list: pd.DataFrame | None = None,
) -> MixtureSet:
    """A small split (evaluation's test set for another source count) whole in memory."""
    return MixtureSet.from_stream(mixture_stream(audio, manifest, section, noise, split, n_sources, sample_rate, seed, mix_list))
