"""Decoding a scanned corpus on every core, in corpus order, with a reason for each file that cannot be used."""

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from cocktail.data.corpora.base import AudioFile
from cocktail.dsp.audio import is_silent, read_audio
from cocktail.errors import CocktailError

FILES_PER_WORKER = 16  # below this a worker process costs more to start than it saves
CHUNK = 8


def usable_audio(path: Path, sample_rate: int) -> tuple[np.ndarray | None, str]:
    """The decoded recording, or why it cannot be a separation source."""
    try:
        audio = read_audio(path, sample_rate)
    except CocktailError as err:
        return None, str(err)
    if is_silent(audio):
        return None, f"{path}: silent (peak below the silence threshold), so it cannot be a separation target."
    return audio, ""


def worker_count(n_files: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, n_files // FILES_PER_WORKER))


def decode(files: list[AudioFile], sample_rate: int) -> Iterator[tuple[AudioFile, np.ndarray | None, str]]:
    """Yields each file with its audio (or None and the reason), in the order given, as workers finish."""
    workers = worker_count(len(files))
    paths = [f.path for f in files]
    rates = [sample_rate] * len(files)
    if workers == 1:
        results = map(usable_audio, paths, rates)
        yield from ((f, *r) for f, r in zip(files, results))
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for f, result in zip(files, pool.map(usable_audio, paths, rates, chunksize=CHUNK)):
            yield (f, *result)
