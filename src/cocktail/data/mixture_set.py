"""A split's mixtures and their targets: in memory, or written and read as shards with a table naming each one.
Apart from how mixtures are drawn (mixing.py), so that the stages that only read mixtures do not depend on it."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cocktail.atomic import save_csv
from cocktail.data.shards import ShardWriter, load_npz, pack, shard_paths, unpack
from cocktail.errors import CocktailError

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
