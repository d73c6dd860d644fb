"""What every corpus reader yields: one utterance, already mono at the pipeline's rate."""

from dataclasses import dataclass

import numpy as np


@dataclass
class Utterance:
    speaker: str
    gender: str  # "F", "M" or "" when unknown
    audio: np.ndarray  # float32, mono, at the requested sample rate
    origin: str  # where it came from: a file path or a synthesis recipe
    text: str = ""
