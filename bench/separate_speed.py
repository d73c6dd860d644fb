"""Real-time factor and peak memory of `cocktail separate` on 1, 10 and 60 minutes of audio, per model.

Each run is a fresh process, since peak RSS (ru_maxrss) only grows: it loads the model, warms up on 1 s of
audio (baseline RSS), then times separate_recording alone. The reference, measured in the same run, is the
job without chunking (read_audio, one separator.separate call on the whole file, the sources resampled and
written), on the short files only: it shows what chunking saves. Peak RSS is also given as a ratio to the
model's shortest chunked run: about 1.0 means memory does not grow with the recording's length.

The recordings are generated 16 kHz stereo 16-bit WAV (two harmonic voices with syllable-like envelopes and
a little noise), so downmixing and resampling to the model's rate are part of the cost. Models have random
weights (params.yaml sections, spectral settings of data/features/spectral.json when the features stage has
run) unless --model-dir gives a trained one: speed does not depend on the weights, though k-means may take
a little longer or shorter on trained embeddings. Usage: python bench/separate_speed.py [--minutes 1 10 60]"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from cocktail.dsp.audio import read_audio, resample, write_wav
from cocktail.errors import CocktailError
from cocktail.inference.recording import Chunking, inspect_recording, output_paths, separate_recording
from cocktail.models import ARCHITECTURES

SEPARABLE = [name for name, architecture in ARCHITECTURES.items() if architecture.inference.separates_recordings]
RECORDING_RATE = 16000
# Longest recording each model also separates whole (others: 1 minute). Measured on 2 cores at the params.yaml
# sizes: Conv-TasNet whole takes about 9 s and 3.5 GB for 10 minutes but 13 GB for 60; dpcl's whole minute
# already adds about 0.9 GB, and k-means over all of a long file's bins would dominate.
WHOLE_FILE_MINUTES = {"convtasnet": 10}
# (pitch Hz, syllables per second, envelope phase): two speakers a listener, and a model, could tell apart.
VOICES = ((118.0, 3.1, 0.0), (205.0, 4.3, 1.7))
HARMONICS = 6


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mib() -> float:
    """Resident now, not the peak: loading the weights peaks above what a loaded model holds."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def two_voices(start: int, count: int, noise: np.random.Generator) -> np.ndarray:
    """Samples start..start+count of the stereo test signal; a function of the sample index, so blocks join up."""
    t = (start + np.arange(count)) / RECORDING_RATE
    voices = []
    for pitch, syllables, phase in VOICES:
        # Slow vibrato, integrated in closed form so the phase is continuous across blocks.
        glottal = 2 * np.pi * pitch * (t - 0.03 / (2 * np.pi * 0.4) * np.cos(2 * np.pi * 0.4 * t))
        tone = sum(np.sin(k * glottal) / k for k in range(1, HARMONICS + 1))
        voices.append(tone * np.maximum(np.sin(2 * np.pi * syllables * t + phase), 0.0) ** 2)
    left, right = 0.7 * voices[0] + 0.3 * voices[1], 0.3 * voices[0] + 0.7 * voices[1]
    return (0.3 * np.stack([left, right], axis=1) + 0.005 * noise.standard_normal((count, 2))).astype(np.float32)


def write_recording(path: Path, minutes: float, block_seconds: float = 60.0) -> None:
    """Block by block, so the bench itself never holds an hour of audio."""
    total, block = round(minutes * 60 * RECORDING_RATE), round(block_seconds * RECORDING_RATE)
    noise = np.random.default_rng(0)
    with sf.SoundFile(path, "w", RECORDING_RATE, 2, subtype="PCM_16", format="WAV") as handle:
        for start in range(0, total, block):
            handle.write(two_voices(start, min(block, total - start), noise))


def random_model(name: str, params_path: Path, directory: Path) -> str:
    """A model of the params.yaml size with random weights, saved as the train stage would save it."""
    import keras

    from cocktail.dsp.spectral import Normaliser, SpectralSettings
    from cocktail.dsp.stft import StftConfig
    from cocktail.inference.separation import Separator
    from cocktail.models import architecture_section
    from cocktail.params import Params

    params = Params.load(params_path)
    spectral_path = params_path.parent / "data" / "features" / "spectral.json"
    if spectral_path.is_file():
        spectral, spectral_from = SpectralSettings.load(spectral_path), str(spectral_path)
    else:
        stft = StftConfig.from_params(params.section("features"))
        unit = Normaliser(np.zeros(stft.n_bins, np.float32), np.ones(stft.n_bins, np.float32))
        spectral = SpectralSettings(stft, float(params["features.vad_db"]), int(params["corpus.sample_rate"]), unit)
        spectral_from = f"{params_path} (identity normaliser: no features stage output)"
    keras.utils.set_random_seed(0)
    separator = Separator.create(name, architecture_section(params, name), spectral, 2)
    separator.save(directory)
    return (f"random weights, {separator.parameter_count:,} parameters, '{name}' section of {params_path}, "
            f"{spectral.sample_rate} Hz; spectral settings from {spectral_from}")


def trained_model(name: str, directory: Path) -> str:
    from cocktail.models.model_dir import read_config

    config = read_config(directory)
    if config["architecture"] != name:
        raise CocktailError(f"--model-dir {name}={directory}: that folder holds a '{config['architecture']}' model, not '{name}'.")
    return f"the model folder {directory} (its own weights), {config['spectral']['sample_rate']} Hz"


def separate_whole(separator, recording, out_dir: Path) -> None:
    """The same job without chunking: the whole recording in memory and through the model in one call."""
    rate = separator.spectral.sample_rate
    sources = separator.separate(read_audio(recording.path, rate)).sources
    for path, source in zip(output_paths(recording, out_dir, len(sources)), sources):
        write_wav(path, resample(source, rate, recording.sample_rate), recording.sample_rate)


def measure(mode: str, model_dir: Path, audio: Path, out_dir: Path) -> dict:
    """Runs in the child process: one model, one recording, one mode."""
    from cocktail.inference.separation import load_separator

    separator = load_separator(model_dir)
    recording = inspect_recording(audio)
    rate = separator.spectral.sample_rate
    separator.separate(0.1 * np.random.default_rng(0).standard_normal(rate).astype(np.float32))
    baseline = rss_mib()
    start = time.perf_counter()
    if mode == "chunked":
        separate_recording(separator, recording, out_dir, progress=False, model_dir=model_dir)
    else:
        separate_whole(separator, recording, out_dir)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "audio_seconds": recording.seconds, "baseline_mib": baseline, "peak_mib": peak_rss_mib()}


def run_child(mode: str, model_dir: Path, audio: Path, out_dir: Path) -> dict:
    out_dir.mkdir()
    command = [sys.executable, __file__, "--child", mode, str(model_dir), str(audio), str(out_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        cause = "killed (out of memory?)" if done.returncode < 0 else f"exit status {done.returncode}"
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise CocktailError(f"the {mode} run of {model_dir} on {audio.name} failed, {cause}:\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def model_dir_option(value: str) -> tuple[str, Path]:
    name, sep, directory = value.partition("=")
    if not sep or name not in SEPARABLE:
        raise argparse.ArgumentTypeError(f"'{value}': give NAME=DIR with NAME one of {', '.join(SEPARABLE)}")
    return name, Path(directory)


def print_table(rows: list[dict]) -> None:
    shortest = {}
    for row in rows:
        if row["mode"] == "chunked":
            shortest.setdefault(row["model"], row)
    print(f"\n{'model':<11}{'minutes':>8}  {'mode':<11}{'wall s':>9}{'RTF':>8}{'peak MiB':>10}{'growth MiB':>12}{'peak vs shortest chunked':>26}")
    for row in rows:
        reference = shortest[row["model"]]
        print(f"{row['model']:<11}{row['minutes']:>8g}  {row['mode']:<11}{row['seconds']:>9.1f}{row['seconds'] / row['audio_seconds']:>8.3f}"
              f"{row['peak_mib']:>10.0f}{row['peak_mib'] - row['baseline_mib']:>12.0f}"
              f"{row['peak_mib'] / reference['peak_mib']:>19.2f}x ({reference['minutes']:g} min)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60], help="recording lengths (default: 1 10 60)")
    parser.add_argument("--models", nargs="+", choices=SEPARABLE, default=["dpcl", "convtasnet"], metavar="MODEL",
                        help=f"architectures to measure, of {', '.join(SEPARABLE)} (default: dpcl convtasnet)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="sizes of the random models (default: params.yaml)")
    parser.add_argument("--model-dir", type=model_dir_option, action="append", default=[], metavar="NAME=DIR",
                        help="measure a trained model folder for NAME instead of random weights, e.g. convtasnet=model (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the recordings, models and separated sources, and say where")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "MODEL_DIR", "AUDIO", "OUT_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *paths = args.child
        print(json.dumps(measure(mode, *map(Path, paths))))
        return
    if min(args.minutes) <= 0:
        parser.error("--minutes must be positive")
    unmeasured = sorted({name for name, _ in args.model_dir} - set(args.models))
    if unmeasured:
        parser.error(f"--model-dir names {', '.join(unmeasured)}, which --models does not measure")
    tmp = Path(tempfile.mkdtemp(prefix="separate_speed_"))
    try:
        bench(args, tmp)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp)


def bench(args, tmp: Path) -> None:
    started = time.perf_counter()
    chunking = Chunking()
    print(f"cores: {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable), load average {os.getloadavg()[0]:.1f}; "
          f"chunks of {chunking.chunk_seconds:g} s with {chunking.overlap_seconds:g} s overlap; "
          f"recordings {RECORDING_RATE} Hz stereo 16-bit WAV")
    trained = dict(args.model_dir)
    model_dirs = {}
    for name in args.models:
        if name in trained:
            model_dirs[name], described = trained[name], trained_model(name, trained[name])
        else:
            model_dirs[name], described = tmp / "models" / name, random_model(name, args.params, tmp / "models" / name)
        print(f"{name}: {described}")

    minutes = sorted(set(args.minutes))
    recordings = {m: tmp / f"{m:g}min.wav" for m in minutes}
    start = time.perf_counter()
    for length, path in recordings.items():
        write_recording(path, length)
    print(f"wrote {', '.join(f'{m:g}' for m in minutes)} minute recordings in {time.perf_counter() - start:.1f} s", flush=True)

    rows = []
    for name in args.models:
        for length in minutes:
            for mode in ("chunked", "whole-file"):
                if mode == "whole-file" and length > WHOLE_FILE_MINUTES.get(name, 1):
                    continue
                out_dir = tmp / "out" / f"{name}_{length:g}min_{mode}"
                out_dir.parent.mkdir(exist_ok=True)
                figures = run_child(mode, model_dirs[name], recordings[length], out_dir)
                if not args.keep:
                    shutil.rmtree(out_dir)
                rows.append({"model": name, "minutes": length, "mode": mode, **figures})
                print(f"  {name} {length:g} min {mode}: {figures['seconds']:.1f} s, peak {figures['peak_mib']:.0f} MiB", flush=True)
    print_table(rows)
    print(f"\nRTF: wall seconds per second of audio (below 1: faster than real time). "
          f"Growth: peak RSS minus the RSS after loading and a 1 s warm-up. Bench total {time.perf_counter() - started:.0f} s; "
          f"load average now {os.getloadavg()[0]:.1f} (other work on these cores makes the figures noisy).")


if __name__ == "__main__":
    try:
        main()
    except CocktailError as err:
        sys.exit(f"error: {err}")
