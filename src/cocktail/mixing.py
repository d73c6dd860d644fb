"""Mixtures of utterances by different speakers at a uniform source-to-source ratio, seeded."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cocktail.atomic import save_csv
from cocktail.audio import is_silent
from cocktail.constants import PEAK
from cocktail.errors import CocktailError
from cocktail.prepared_data import SPLITS
from cocktail.shards import ShardWriter, load_npz, pack, shard_paths, unpack

MIXTURE_TABLE = "mixtures.csv"
SHARD_STEM = "mixtures"


@dataclass
class MixtureSet:
    """Mixtures and the clean sources that are their targets, as lists of arrays."""

    mixtures: list[np.ndarray]  # (samples,)
    sources: list[np.ndarray]  # (n_sources, samples)
    table: pd.DataFrame

    def __len__(self) -> int:
        return len(self.mixtures)

    @property
    def n_sources(self) -> int:
        return self.sources[0].shape[0]

    def utt_ids(self, index: int) -> list[str]:
        """The utterances mixed in mixture `index`, in source order (oracle identity for the NMF baseline)."""
        return str(self.table.at[index, "utt_ids"]).split()

    def head(self, count: int) -> "MixtureSet":
        return MixtureSet(self.mixtures[:count], self.sources[:count], self.table.iloc[:count].reset_index(drop=True))

    @classmethod
    def load(cls, directory: str | Path) -> "MixtureSet":
        """A whole split in memory: for the validation and test sets, whose size does not grow with training data."""
        mixtures, sources = [], []
        for mixture, source in iter_mixtures(directory):
            mixtures.append(mixture)
            sources.append(source)
        return cls(mixtures, sources, read_mixture_table(directory))

    @classmethod
    def from_stream(cls, stream: Iterable[tuple[np.ndarray, np.ndarray, dict]]) -> "MixtureSet":
        mixtures, sources, records = [], [], []
        for mixture, source, record in stream:
            mixtures.append(mixture)
            sources.append(source)
            records.append(record)
        return cls(mixtures, sources, pd.DataFrame(records))


def pack_mixtures(items: list[dict]) -> dict[str, np.ndarray]:
    mixture, offsets = pack([item["mixture"] for item in items])
    sources, _ = pack([item["sources"] for item in items])
    return {"mixture": mixture, "sources": sources, "offsets": offsets}


def write_mixtures(directory: str | Path, stream: Iterable[tuple[np.ndarray, np.ndarray, dict]], max_bytes: int) -> pd.DataFrame:
    """One split as shards of about `max_bytes`, written as the mixtures are drawn, and a table naming each one's shard."""
    directory = Path(directory)
    writer = ShardWriter(directory, SHARD_STEM, max_bytes, pack_mixtures)
    records = []
    for mixture, sources, record in stream:
        writer.append({"mixture": mixture, "sources": sources})
        records.append(record)
    counts = writer.close()
    table = pd.DataFrame(records).assign(shard=np.repeat(np.arange(len(counts)), counts))
    save_csv(directory / MIXTURE_TABLE, table)
    return table


def read_mixture_table(directory: str | Path) -> pd.DataFrame:
    path = Path(directory) / MIXTURE_TABLE
    if not path.is_file():
        raise CocktailError(f"{path} not found: run the mix stage first (`dvc repro mix`).")
    return pd.read_csv(path)


def iter_mixtures(directory: str | Path) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(mixture, sources) in table order, one shard in memory at a time."""
    counts = read_mixture_table(directory).groupby("shard", sort=True).size().tolist()
    for path, count in zip(shard_paths(directory, SHARD_STEM, counts), counts):
        arrays = load_npz(path)
        if len(arrays["offsets"]) - 1 != count:
            raise CocktailError(
                f"{path} holds {len(arrays['offsets']) - 1} mixtures where {Path(directory) / MIXTURE_TABLE} lists {count}: "
                "the folder is damaged. Rebuild it with `dvc repro -f mix`."
            )
        yield from zip(unpack(arrays["mixture"], arrays["offsets"]), unpack(arrays["sources"], arrays["offsets"]))


def with_rms(signal: np.ndarray, rms: float) -> np.ndarray:
    return rms * signal / np.sqrt(np.mean(signal**2))


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


def peak_normalised(signals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mixture and sources scaled together so that none peaks above PEAK, as wsj0-2mix does."""
    mixture = np.sum(signals, axis=0)
    gain = PEAK / max(np.max(np.abs(mixture)), max(np.max(np.abs(s)) for s in signals))
    return (gain * mixture).astype(np.float32), (gain * np.stack(signals)).astype(np.float32)


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
    skip_silent: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, dict]]:
    """`count` mixtures of `n_sources` distinct speakers from one split (or of the named classes in that order), drawn
    one at a time: the mix stage writes them, dynamic mixing trains on them. A crop in which a source is silent stops
    the mix stage (a fixed set must not change silently) but is only skipped by dynamic mixing."""
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
        mixture, scaled = peak_normalised(scale_to_ratio(signals, ratio))
        record = {
            "mix_id": f"{split}_{i:05d}",
            "utt_ids": " ".join(manifest.loc[utt_idx, "utt_id"]),
            "speakers": " ".join(manifest.loc[utt_idx, "speaker"]),
            "ratio_db": round(ratio, 4),
            "duration": round(len(mixture) / sample_rate, 4),
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
    they are. The first `count` are taken."""
    manifest = manifest.reset_index(drop=True)
    position = {utt: i for i, utt in enumerate(manifest["utt_id"])}
    rows = mix_list[(mix_list["split"] == split) & (mix_list["utt_ids"].str.split().str.len() == n_sources)]
    if rows.empty:
        counts = sorted({len(u.split()) for u in mix_list["utt_ids"]})
        raise CocktailError(
            f"the corpus's own mixture list (mix_list.csv beside the manifest) has no {n_sources}-source mixtures in the "
            f"{split} split; it holds {', '.join(map(str, counts))}-source mixtures. Set mix.n_sources to match."
        )
    print(f"{split}: the first {min(count, len(rows))} of {len(rows)} listed mixtures (mix.{split}_mixtures = {count})")
    for row in rows.head(count).itertuples():
        utt_idx = [position[u] for u in row.utt_ids.split()]
        signals = [audio[j] for j in utt_idx]
        if row.snr_db:
            signals = [with_rms(s, 10 ** (float(snr) / 20)) for snr, s in zip(row.snr_db.split(), signals)]
        signals = fit_length(signals, "min", sample_rate, None)
        mixture, scaled = peak_normalised(signals)
        power = (scaled.astype(np.float64) ** 2).mean(axis=1)
        record = {
            "mix_id": row.mix_id,
            "utt_ids": row.utt_ids,
            "speakers": " ".join(manifest.loc[utt_idx, "speaker"]),
            "ratio_db": round(float(10 * np.log10(power[0] / power[1])), 4),
            "duration": round(len(mixture) / sample_rate, 4),
        }
        yield mixture, scaled, record


def mixture_stream(
    audio: list[np.ndarray], manifest: pd.DataFrame, section, split: str, n_sources: int, sample_rate: int, seed: int,
    mix_list: pd.DataFrame | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, dict]]:
    """One split's mixtures as the `mix` params describe them (or as the corpus lists them), one at a time;
    `n_sources` may differ for evaluation."""
    section["n_sources"]  # read (and so checked: params.RANGES) even where evaluation asks for another number
    count = section[f"{split}_mixtures"]
    if mix_list is not None:
        return listed_mixture_stream(audio, manifest, mix_list, split, count, n_sources, sample_rate)
    return random_mixtures(
        audio, manifest, split, count, n_sources, float(section["ratio_db"]), section["length"], sample_rate,
        split_rng(seed, split), section["classes"],
    )


def mixtures_from_params(
    audio: list[np.ndarray], manifest: pd.DataFrame, section, split: str, n_sources: int, sample_rate: int, seed: int,
    mix_list: pd.DataFrame | None = None,
) -> MixtureSet:
    """A small split (evaluation's test set for another source count) whole in memory."""
    return MixtureSet.from_stream(mixture_stream(audio, manifest, section, split, n_sources, sample_rate, seed, mix_list))
