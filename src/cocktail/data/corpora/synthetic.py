"""The embedded default corpus: English sentences spoken by espeak-ng in many voices.

It exists so that `dvc repro` runs offline, with no dataset to download, and still
has many distinct speakers to mix: each voice combines an espeak-ng English accent,
a gendered voice variant, a pitch and a speaking rate. The sentences come from a
small seeded grammar, so the whole corpus is a pure function of its parameters.
"""

import io
import itertools
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import librosa
import numpy as np
import soundfile as sf
from tqdm import tqdm

from cocktail.constants import PEAK
from cocktail.data.corpora import wordlist as w
from cocktail.data.corpora.base import Utterance
from cocktail.dsp.audio import resample
from cocktail.errors import CocktailError

TRIM_TOP_DB = 40

# espeak-ng's own English accents; the mbrola "mb/..." voices are left out because
# they need extra data packages.
ACCENTS = (
    "en-us", "en-us-nyc", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
    "en-gb-x-gbcwmd", "en-029",
)

# Variants from `espeak-ng --voices=variant`, grouped by the gender that listing gives
# them. Whispering, robotic, croaking and child-like variants are left out: they would
# not sound like the adult speakers a separation model is meant for.
VARIANTS = {
    "F": (
        "f1", "f2", "f3", "f4", "f5", "Alicia", "Andrea", "Annie", "aunty", "belinda",
        "linda", "steph", "steph2", "steph3", "anika",
    ),
    "M": (
        "m1", "m2", "m3", "m4", "m5", "m6", "m7", "adam", "Andy", "benjamin", "david",
        "edward", "Gene", "john", "Lee", "Michael", "Mike", "paul", "quincy", "rob",
        "robert", "travis", "victor",
    ),
}

# espeak-ng's -p scale (0..99, default 50); the ranges do not overlap so that female
# voices are always set higher than male ones.
PITCH = {"F": (55, 90), "M": (15, 50)}
RATE = (150, 195)

# espeak-ng opens a PulseAudio client even with --stdout. On a machine where PulseAudio has not yet set up
# its runtime folder (a fresh machine or user), the client reseeds the C library's rand(), which espeak-ng
# also draws its breath noise from, so the first utterances of a fresh machine differed from every later run.
# With a server address that cannot exist, the client gives up before seeding, so each utterance is a pure
# function of its recipe and text.
ESPEAK_ENVIRONMENT = {"PULSE_SERVER": "unix:/nonexistent/cocktail-no-audio"}

# Each gender has at most one voice per accent and variant pair.
MAX_VOICES = 2 * len(ACCENTS) * min(len(v) for v in VARIANTS.values())


@dataclass(frozen=True)
class Voice:
    name: str
    voice: str
    pitch: int
    rate: int
    gender: str

    @property
    def recipe(self) -> str:
        """The command line that reproduces this voice, recorded as each utterance's origin."""
        return f"espeak-ng -v {self.voice} -p {self.pitch} -s {self.rate}"


def spread(lo: int, hi: int, k: int, rng: np.random.Generator) -> list[int]:
    """Stratified draws, so voices of one gender cover the whole range instead of clustering."""
    slots = rng.permutation(k) + rng.uniform(size=k)
    return [int(round(lo + (hi - lo) * s / k)) for s in slots]


def _gender_voices(
    gender: str, k: int, rng: np.random.Generator
) -> list[tuple[str, str, int, int]]:
    """Every variant is used once before any repeats; a repeat gets an accent it has not had."""
    accents = [ACCENTS[i] for i in rng.permutation(len(ACCENTS))]
    variants = [VARIANTS[gender][i] for i in rng.permutation(len(VARIANTS[gender]))]
    pitches = spread(*PITCH[gender], k, rng)
    rates = spread(*RATE, k, rng)
    out = []
    for i in range(k):
        lap, j = divmod(i, len(variants))
        accent = accents[(j + lap) % len(accents)]
        out.append((f"{accent}+{variants[j]}", gender, pitches[i], rates[i]))
    return out


def voices(n_voices: int, seed: int) -> list[Voice]:
    """Genders alternate, so neighbouring voices differ most.

    Pitches and rates are spread over all `n_voices`, so voices(n, seed) is not a prefix
    of voices(n + 1, seed).
    """
    if not 1 <= n_voices <= MAX_VOICES:
        raise CocktailError(
            f"params key 'synthetic.n_voices' is {n_voices}: the synthetic corpus makes 1 to {MAX_VOICES} "
            "distinct voices. Set it within that range."
        )
    rng = np.random.default_rng(seed)
    n_f = n_voices // 2
    female = _gender_voices("F", n_f, rng)
    male = _gender_voices("M", n_voices - n_f, rng)
    interleaved = [v for pair in itertools.zip_longest(male, female) for v in pair if v]
    width = max(2, len(str(n_voices - 1)))
    return [
        Voice(f"v{i:0{width}d}_{g.lower()}", voice, pitch, rate, g)
        for i, (voice, g, pitch, rate) in enumerate(interleaved)
    ]


def _sentence(rng: np.random.Generator) -> str:
    """One sentence from a template: statements, questions and adverbs, so prosody varies."""
    def p(words: tuple[str, ...]) -> str:
        return words[rng.integers(len(words))]

    templates = (
        lambda: f"{p(w.DETERMINERS)} {p(w.ADJECTIVES)} {p(w.NOUNS)} {p(w.VERBS)} "
        f"{p(w.DETERMINERS)} {p(w.NOUNS)} {p(w.PREPOSITIONS)} the {p(w.PLACES)}.",
        lambda: f"{p(w.NAMES)} {p(w.VERBS)} {p(w.DETERMINERS)} {p(w.ADJECTIVES)} "
        f"{p(w.NOUNS)} {p(w.TIMES)}.",
        lambda: f"{p(w.ADVERBS)}, {p(w.NAMES)} {p(w.VERBS)} {p(w.DETERMINERS)} "
        f"{p(w.NOUNS)} {p(w.PREPOSITIONS)} the {p(w.PLACES)}.",
        lambda: f"who {p(w.VERBS)} {p(w.DETERMINERS)} {p(w.ADJECTIVES)} {p(w.NOUNS)} "
        f"{p(w.PREPOSITIONS)} the {p(w.PLACES)}?",
        lambda: f"why was {p(w.DETERMINERS)} {p(w.NOUNS)} so {p(w.ADJECTIVES)} {p(w.TIMES)}?",
        lambda: f"{p(w.NAMES)} and {p(w.NAMES)} {p(w.INTRANSITIVE_VERBS)} "
        f"{p(w.PREPOSITIONS)} the {p(w.PLACES)} {p(w.TIMES)}.",
        lambda: f"{p(w.DETERMINERS)} {p(w.NOUNS)} was {p(w.ADJECTIVES)}, but "
        f"{p(w.DETERMINERS)} {p(w.NOUNS)} was {p(w.ADJECTIVES)}.",
        lambda: f"{p(w.NAMES)} {p(w.ADVERBS)} {p(w.VERBS)} {p(w.DETERMINERS)} "
        f"{p(w.ADJECTIVES)} {p(w.NOUNS)} {p(w.TIMES)}.",
        lambda: f"did {p(w.NAMES)} see {p(w.DETERMINERS)} {p(w.ADJECTIVES)} {p(w.NOUNS)} "
        f"{p(w.PREPOSITIONS)} the {p(w.PLACES)}?",
        lambda: f"{p(w.DETERMINERS)} {p(w.NOUNS)} {p(w.INTRANSITIVE_VERBS)} {p(w.ADVERBS)} "
        f"{p(w.PREPOSITIONS)} the {p(w.ADJECTIVES)} {p(w.PLACES)}.",
        lambda: f"{p(w.TIMES)}, {p(w.NAMES)} {p(w.VERBS)} {p(w.DETERMINERS)} {p(w.NOUNS)} "
        f"and {p(w.VERBS)} {p(w.DETERMINERS)} {p(w.NOUNS)}.",
    )
    words = templates[rng.integers(len(templates))]().split(" ")
    for i, word in enumerate(words[:-1]):
        if word == "a" and words[i + 1][0] in "aeiou":
            words[i] = "an"
    text = " ".join(words)
    return text[0].upper() + text[1:]


def sentences(n: int, rng: np.random.Generator) -> list[str]:
    """Distinct sentences, so no two utterances in the corpus share a transcript."""
    seen: set[str] = set()
    out = []
    while len(out) < n:
        text = _sentence(rng)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def speak(espeak: str, voice: Voice, text: str, sample_rate: int) -> np.ndarray:
    """Synthesis, light trimming, resampling and peak normalisation of one utterance."""
    args = [
        espeak, "-v", voice.voice, "-p", str(voice.pitch), "-s", str(voice.rate), "--stdout", text,
    ]
    result = subprocess.run(args, capture_output=True, check=False, env={**os.environ, **ESPEAK_ENVIRONMENT})
    stderr = result.stderr.decode(errors="replace").strip()
    if result.returncode != 0 or not result.stdout:
        raise CocktailError(
            f"espeak-ng failed for voice {voice.name} ({voice.recipe}) reading {text!r}: "
            f"exit status {result.returncode}, stderr: {stderr or '(empty)'}"
        )
    audio, rate = sf.read(io.BytesIO(result.stdout), dtype="float32", always_2d=True)
    audio, _ = librosa.effects.trim(audio.mean(axis=1), top_db=TRIM_TOP_DB)
    audio = resample(audio, rate, sample_rate)
    peak = float(np.max(np.abs(audio), initial=0.0))
    if peak == 0.0:
        raise CocktailError(
            f"espeak-ng produced silence for voice {voice.name} ({voice.recipe}) reading {text!r}; "
            f"stderr: {stderr or '(empty)'}"
        )
    return (audio * (PEAK / peak)).astype(np.float32)


def synthesize(
    n_voices: int, sentences_per_voice: int, sample_rate: int, seed: int
) -> list[Utterance]:
    """Utterances come back voice by voice, in sentence order, whichever thread finishes first."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise CocktailError(
            "espeak-ng is not installed: the synthetic corpus is spoken by it. Install it with "
            "`apt-get install espeak-ng` (Debian/Ubuntu) or your system's package manager, "
            "or set corpus.name to a real corpus."
        )
    if sentences_per_voice < 1:
        raise CocktailError(
            f"params key 'synthetic.sentences_per_voice' is {sentences_per_voice}: "
            "the synthetic corpus needs at least one sentence per voice."
        )
    cast = voices(n_voices, seed)
    texts = sentences(n_voices * sentences_per_voice, np.random.default_rng(seed))
    jobs = [
        (voice, texts[i * sentences_per_voice + k])
        for i, voice in enumerate(cast)
        for k in range(sentences_per_voice)
    ]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [pool.submit(speak, espeak, voice, text, sample_rate) for voice, text in jobs]
        try:
            done = as_completed(futures)
            for future in tqdm(done, total=len(futures), desc="synthesising", unit="utt"):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [
        Utterance(
            speaker=voice.name,
            gender=voice.gender,
            audio=future.result(),
            origin=voice.recipe,
            text=text,
        )
        for (voice, text), future in zip(jobs, futures)
    ]
