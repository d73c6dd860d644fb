"""Files per second of the prepare stage (every core, streamed to disk) against a plain single-process
`librosa.load` loop over the same files, measured in the same run. The corpus is the LibriSpeech subset
beside the checkout when it is there (or --corpus DIR in LibriSpeech layout), else a generated folder
corpus of 16 kHz FLAC files. Usage: python bench/prepare_speed.py [--corpus DIR] [--files 300]"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import yaml

from cocktail.data.corpora import reader_settings, scan_corpus
from cocktail.data.corpora.decode import worker_count
from cocktail.data.prepare import prepare_corpus
from cocktail.errors import CocktailError
from cocktail.params import Params

ROOT = Path(__file__).resolve().parents[1]
LIBRISPEECH = ROOT.parent / "shared" / "data" / "LibriSpeech"


def generated_corpus(folder: Path, n_files: int, seconds: float = 12.0, rate: int = 16000) -> Path:
    """Noise-excited tones in one folder per 'speaker', roughly LibriSpeech's file length and rate."""
    rng = np.random.default_rng(0)
    for i in range(n_files):
        path = folder / f"spk{i % 20:02d}" / f"utt{i:05d}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(int(seconds * rate)) / rate
        signal = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 400) * t) + 0.05 * rng.standard_normal(t.size)
        sf.write(path, signal, rate, format="FLAC")
    return folder


def params_for(name: str, root: Path) -> Params:
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    data["corpus"].update(name=name, root=str(root), valid_speakers=2, test_speakers=2)
    return Params(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a LibriSpeech folder (default: the shared subset, if present)")
    parser.add_argument("--files", type=int, default=300, help="files to generate when there is no LibriSpeech (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus or (LIBRISPEECH if LIBRISPEECH.is_dir() else None)
        if corpus is not None:
            params = params_for("librispeech", corpus)
        else:
            params = params_for("folder", generated_corpus(Path(tmp) / "corpus", args.files))
        settings = reader_settings(params)
        files = scan_corpus(params["corpus.name"], params["corpus.root"], settings).files
        sample_rate = int(params["corpus.sample_rate"])
        print(f"corpus: {params['corpus.root']} ({params['corpus.name']}), {len(files)} files; "
              f"{os.cpu_count()} cores, prepare uses {worker_count(len(files))} worker process(es)")

        start = time.perf_counter()
        seconds = sum(len(librosa.load(f.path, sr=sample_rate, mono=True, res_type="soxr_hq")[0]) for f in files) / sample_rate
        reference = time.perf_counter() - start

        out = Path(tmp) / "prepared"
        out.mkdir()
        start = time.perf_counter()
        prepare_corpus(params.section("corpus"), settings, int(params["seed"]), out)
        ours = time.perf_counter() - start

    hours = seconds / 3600
    print(f"{'':28s}{'files/s':>10s}{'audio h/min':>14s}{'seconds':>10s}")
    print(f"{'librosa.load loop (1 core)':28s}{len(files) / reference:10.1f}{60 * hours / reference:14.2f}{reference:10.2f}")
    print(f"{'prepare stage':28s}{len(files) / ours:10.1f}{60 * hours / ours:14.2f}{ours:10.2f}")
    print(f"prepare / librosa.load loop: {reference / ours:.2f}x the files per second")


if __name__ == "__main__":
    try:
        main()
    except CocktailError as err:
        sys.exit(f"error: {err}")
