"""Where the noise that mix.noise adds to mixtures comes from (WHAM!-style noisy mixtures): a generator that runs offline,
or a noise corpus, each split's noise kept apart from the others' so that test noise is never heard in training."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from cocktail.data.corpora import esc50, folder
from cocktail.data.corpora.base import AudioFile, audio_file, audio_files_in, describe, subfolders
from cocktail.data.corpora.synthetic import PITCH, RATE, VARIANTS, Voice, sentences, speak, spread
from cocktail.data.prepared_data import SPLITS
from cocktail.dsp.audio import SILENCE_PEAK, is_silent, read_audio
from cocktail.errors import CocktailError
from cocktail.params import checked_choice

NOISE_NAMES = ("generated", "esc50", "folder", "wham")
KINDS = ("babble", "coloured", "modulated")

# Latin-script espeak-ng languages other than English, whose voices the speech corpus never uses. They are dealt to the
# splits from the seed, so no babble voice of one split speaks in another. They read the English sentence grammar with
# their own phonetics, which makes unintelligible talk; languages whose dictionaries switch to English for any word of
# the grammar (de, fr, it, nl, pt, sv, da, af, ...) are left out, so that the babble holds no English word.
BABBLE_LANGUAGES = (
    "es", "pl", "cs", "ro", "hu", "fi", "nb", "sk", "hr", "tr", "id", "ca",
    "cy", "et", "lv", "sl", "eu", "sw", "is", "lt", "sq", "mt", "pt-br", "gd",
)
BABBLE_VOICES = 12  # per split, half of each gender; each reads SENTENCES_PER_VOICE sentences (about 8 s at 8 kHz)
SENTENCES_PER_VOICE = 3
TALKERS = (4, 8)  # babble sums this many voices at once (inclusive)
TALKER_GAIN_DB = 6.0  # each talker within +-6 dB of unit power
ALPHA = (0.0, 2.0)  # coloured noise's power falls as 1/f^alpha: white 0, pink 1, brown 2
KNEE_HZ = 50.0  # flat below this, so that brown noise's power is not all in inaudible drift
MODULATION_HZ = (0.5, 4.0)  # how fast the modulated noise's envelope moves
MODULATION_DB = (6.0, 24.0)  # the envelope's range, peak to trough
SILENT_TRIES = 100  # excerpts tried before a split's noise is reported silent
STREAM = 0x6E6F6973  # keeps the noise's random streams apart from the speech corpus's, which the same seed drives
WHAM_FOLDERS = {"train": "tr", "valid": "cv", "test": "tt"}


def with_unit_rms(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, np.float64)
    return audio / np.sqrt(np.mean(audio**2))


class NoisePool:
    """One split's noise. Each draw takes one number from the caller's generator and mixes in the pool's seed and split,
    so equal generators give different noise in different splits, and the same seed gives the same noise."""

    def __init__(self, seed: int, split: str, source: str):
        if split not in SPLITS:
            raise ValueError(f"split is {split!r}: one of {', '.join(SPLITS)}")
        self.seed, self.split, self.source = seed, split, source

    def draw(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """`n_samples` of noise, float64 at unit RMS."""
        return self.draw_with_origin(n_samples, rng)[0]

    def draw_with_origin(self, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """The noise and what it is (kind and recipe, or file and first sample), for the mixture table."""
        if n_samples < 1:
            raise ValueError(f"n_samples is {n_samples}: a draw needs one sample at least")
        local = np.random.default_rng([self.seed, STREAM, SPLITS.index(self.split), int(rng.integers(2**63))])
        for _ in range(SILENT_TRIES):
            audio, origin = self.excerpt(n_samples, local)
            if not is_silent(audio):
                return with_unit_rms(audio), origin
        raise CocktailError(
            f"{SILENT_TRIES} excerpts of {n_samples} samples of the {self.split} split's noise ({self.source}) were all "
            f"silent (peak below {SILENCE_PEAK}). Remove recordings that are silent, or mostly so, from noise.root."
        )

    def excerpt(self, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        raise NotImplementedError


def crop(audio: np.ndarray, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A random excerpt and its first sample; a recording shorter than the excerpt is looped from a random start."""
    if len(audio) >= n_samples:
        start = int(rng.integers(len(audio) - n_samples + 1))
        return audio[start : start + n_samples], start
    start = int(rng.integers(len(audio)))
    return audio[(start + np.arange(n_samples)) % len(audio)], start


def coloured(n_samples: int, alpha: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise whose power falls as 1/f^alpha above KNEE_HZ, flat below it, without DC. At least a second is
    made and its start kept, so that a short draw has the same spectrum as a long one."""
    n = max(n_samples, sample_rate)
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    spectrum *= np.maximum(np.fft.rfftfreq(n, 1 / sample_rate), KNEE_HZ) ** (-alpha / 2)
    spectrum[0] = 0
    return np.fft.irfft(spectrum, n)[:n_samples]


def envelope(n_samples: int, rate_hz: float, depth_db: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A slow random gain: uniform random levels `rate_hz` times a second, joined by half cosines, spanning `depth_db`."""
    position = np.arange(n_samples) * rate_hz / sample_rate
    knot = np.floor(position).astype(int)
    weight = (1 - np.cos(np.pi * (position - knot))) / 2
    levels = rng.uniform(-1, 1, knot[-1] + 2)
    shape = levels[knot] * (1 - weight) + levels[knot + 1] * weight
    return 10 ** (depth_db / 2 * shape / 20)


def babble_voices(seed: int, split: str) -> list[Voice]:
    """This split's talkers: its own languages (dealt from the seed), variants, pitches and speaking rates."""
    languages = [str(lang) for lang in np.random.default_rng([seed, STREAM]).permutation(BABBLE_LANGUAGES)]
    index = SPLITS.index(split)
    mine = languages[index :: len(SPLITS)]
    rng = np.random.default_rng([seed, STREAM, index])
    half = BABBLE_VOICES // 2
    drawn = {
        g: list(zip(rng.permutation(VARIANTS[g])[:half], spread(*PITCH[g], half, rng), spread(*RATE, half, rng))) for g in "FM"
    }
    alternating = [(g, drawn[g][i]) for i in range(half) for g in "FM"]
    return [
        Voice(f"{split}_babble{k:02d}_{g.lower()}", f"{mine[k % len(mine)]}+{variant}", pitch, rate, g)
        for k, (g, (variant, pitch, rate)) in enumerate(alternating)
    ]


def babble_texts(seed: int, split: str) -> list[str]:
    """Each voice's text: sentences drawn for all splits at once, so no split's babble says what another's does."""
    n = BABBLE_VOICES * SENTENCES_PER_VOICE
    texts = sentences(len(SPLITS) * n, np.random.default_rng([seed, STREAM]))[SPLITS.index(split) * n :][:n]
    return [" ".join(texts[i : i + SENTENCES_PER_VOICE]) for i in range(0, n, SENTENCES_PER_VOICE)]


class GeneratedNoise(NoisePool):
    """Babble of voices in no speech split, coloured noise and modulated coloured noise, one kind per draw."""

    def __init__(self, seed: int, split: str, sample_rate: int):
        super().__init__(seed, split, "noise.name generated")
        espeak = shutil.which("espeak-ng")
        if espeak is None:
            raise CocktailError(
                "espeak-ng is not installed: noise.name 'generated' speaks its babble with it. Install it with "
                "`apt-get install espeak-ng` (Debian/Ubuntu) or your system's package manager, or set noise.name to a "
                f"noise corpus ({', '.join(NOISE_NAMES[1:])})."
            )
        self.sample_rate = sample_rate
        self.voices = babble_voices(seed, split)
        texts = babble_texts(seed, split)
        with ThreadPoolExecutor(max_workers=min(len(texts), os.cpu_count() or 1)) as pool:
            spoken = pool.map(lambda voice, text: speak(espeak, voice, text, sample_rate), self.voices, texts)
            self.talkers = [with_unit_rms(audio) for audio in spoken]

    def excerpt(self, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        kind = KINDS[int(rng.integers(len(KINDS)))]
        if kind == "babble":
            count = int(rng.integers(TALKERS[0], TALKERS[1] + 1))
            chosen = rng.choice(len(self.voices), count, replace=False)
            gains = 10 ** (rng.uniform(-TALKER_GAIN_DB, TALKER_GAIN_DB, count) / 20)
            audio = sum(g * crop(self.talkers[i], n_samples, rng)[0] for g, i in zip(gains, chosen))
            return audio, "babble: " + " ".join(self.voices[i].name for i in chosen)
        alpha = float(rng.uniform(*ALPHA))
        audio = coloured(n_samples, alpha, self.sample_rate, rng)
        if kind == "coloured":
            return audio, f"coloured: 1/f^{alpha:.2f}"
        rate, depth = float(rng.uniform(*MODULATION_HZ)), float(rng.uniform(*MODULATION_DB))
        audio *= envelope(n_samples, rate, depth, self.sample_rate, rng)
        return audio, f"modulated: 1/f^{alpha:.2f}, {rate:.2f} Hz, {depth:.1f} dB"


@lru_cache(maxsize=128)
def decoded(path: Path, sample_rate: int) -> np.ndarray:
    """Noise files are decoded when first drawn, so a large corpus (WHAM!: about 28,000 files) is not held whole."""
    return read_audio(path, sample_rate)


class FileNoise(NoisePool):
    """Random excerpts of one split's noise files, a file drawn uniformly for each."""

    def __init__(self, files: list[AudioFile], seed: int, split: str, sample_rate: int, source: str):
        super().__init__(seed, split, source)
        self.files, self.sample_rate = files, sample_rate

    def excerpt(self, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        file = self.files[int(rng.integers(len(self.files)))]
        audio, start = crop(decoded(file.path, self.sample_rate), n_samples, rng)
        return audio, f"{file.origin}@{start}"


def layout_error(name: str, root: Path, expected: str) -> CocktailError:
    return CocktailError(
        f"noise.root {root} does not look like noise.name '{name}': expected {expected}, but it holds {describe(root)}. "
        "Point noise.root at the noise corpus's top folder, or set noise.name to the layout it has (generated needs none)."
    )


def wham_files(root: Path) -> list[AudioFile]:
    """WHAM!'s noise: `tr/`, `cv/`, `tt/` of .wav files, in noise.root or in its `wham_noise/`."""
    top = root / "wham_noise" if (root / "wham_noise").is_dir() else root
    if not all((top / f).is_dir() for f in WHAM_FOLDERS.values()):
        raise layout_error("wham", root, "WHAM!'s wham_noise folder, holding tr/, cv/ and tt/ folders of .wav noise")
    return [
        audio_file(root, path, "wham", "", split)
        for split, name in WHAM_FOLDERS.items()
        for path in audio_files_in(top / name, {".wav"})
    ]


def esc50_files(root: Path, valid_fold: int, test_fold: int) -> list[AudioFile]:
    if not (root / "meta" / "esc50.csv").is_file() or not (root / "audio").is_dir():
        raise layout_error("esc50", root, "meta/esc50.csv and an audio/ folder of .wav clips (ESC-50)")
    return esc50.scan(root, {"valid_fold": valid_fold, "test_fold": test_fold}).files


def folder_files(root: Path) -> list[AudioFile]:
    if not any(audio_files_in(f) for f in subfolders(root)):
        raise layout_error("folder", root, "one sub-folder of .wav or .flac noise recordings per kind of noise")
    return folder.scan(root, None).files


def split_by_file(files: list[AudioFile], root: Path, seed: int, valid_share: float, test_share: float) -> list[AudioFile]:
    """A seeded share of the files (one at least) for valid and for test, the rest for train: no file is in two splits."""
    if valid_share + test_share >= 1:
        raise CocktailError(
            f"params keys 'noise.valid_share' ({valid_share}) and 'noise.test_share' ({test_share}) add up to 1 or more, "
            "which leaves no noise file for training. Lower them (e.g. 0.1 each)."
        )
    n_valid, n_test = (max(1, int(np.floor(share * len(files) + 0.5))) for share in (valid_share, test_share))
    if n_valid + n_test >= len(files):
        raise CocktailError(
            f"noise.root {root} holds {len(files)} noise file(s): noise.valid_share {valid_share} and noise.test_share "
            f"{test_share} hold out {n_valid} and {n_test}, which leaves none for training. Add noise files under noise.root, "
            "or lower noise.valid_share and noise.test_share."
        )
    order = np.random.default_rng([seed, STREAM]).permutation(len(files))
    split_of = ["test"] * n_test + ["valid"] * n_valid + ["train"] * (len(files) - n_test - n_valid)
    chosen = sorted(zip(order, split_of))
    return [replace(files[i], split=split) for i, split in chosen]


def noise_pool(
    name: str, root: str | Path, split: str, sample_rate: int, seed: int, valid_share: float, test_share: float,
    valid_fold: int = 4, test_fold: int = 5,
) -> NoisePool:
    """One split's noise as noise.name says. Corpora with splits of their own (ESC-50's folds, WHAM!'s tr/cv/tt) keep
    them; a folder is split by file with the shares given."""
    checked_choice("noise.name", name, NOISE_NAMES)
    if name == "generated":
        return GeneratedNoise(seed, split, sample_rate)
    root = Path(root)
    if not root.is_dir():
        raise CocktailError(
            f"noise.root '{root}' does not exist or is not a folder (noise.name: {name}). Set noise.root in params.yaml to "
            f"where the noise corpus lives, e.g. a symlink under data/ (`ln -s /path/to/noise {root}`), or set noise.name "
            "to generated, which needs none."
        )
    if name == "wham":
        files = wham_files(root)
    elif name == "esc50":
        files = esc50_files(root, valid_fold, test_fold)
    else:
        files = split_by_file(folder_files(root), root, seed, valid_share, test_share)
    for needed in SPLITS:
        if not any(f.split == needed for f in files):
            where = {"wham": f"{WHAM_FOLDERS[needed]}/", "esc50": f"its {needed} folds (esc50.valid_fold, esc50.test_fold)"}
            raise CocktailError(
                f"noise.root {root} (noise.name {name}) holds no noise files for the {needed} split ({where[name]}). "
                "Add them, or point noise.root at the whole corpus."
            )
    return FileNoise([f for f in files if f.split == split], seed, split, sample_rate, f"noise.root {root}")
