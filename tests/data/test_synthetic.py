"""The embedded corpus is a pure function of its parameters, on a fresh machine as on a used one."""

import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the embedded corpus")

# victor is a variant with breath noise, which espeak-ng draws from the C library's rand(); only the first
# espeak-ng run of a fresh home folder was affected, so each process speaks one utterance.
HASH_UTTERANCE = """
import hashlib, shutil
from cocktail.data.corpora.synthetic import Voice, speak
voice = Voice("v00_m", "en-gb-scotland+victor", 50, 170, "M")
audio = speak(shutil.which("espeak-ng"), voice, "Her apple wandered near the river.", 8000)
print(hashlib.sha256(audio.tobytes()).hexdigest())
"""


def utterance_hash(home) -> str:
    """Synthesis in a new process whose home folder is empty, as for a new user on a new machine."""
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    result = subprocess.run([sys.executable, "-c", HASH_UTTERANCE], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_first_synthesis_on_a_fresh_machine_is_byte_identical(tmp_path):
    """Without the fix, espeak-ng's audio client reseeded the breath noise at random the first time it ran."""
    hashes = {utterance_hash(tmp_path / f"home{i}") for i in range(3)}
    assert len(hashes) == 1
