"""cocktail: a reproducible DVC pipeline for single-channel source separation."""

import os

# TensorFlow's C++ start-up chatter (CPU features, missing CUDA) drowns the stage logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
