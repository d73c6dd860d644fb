"""cocktail: a reproducible DVC pipeline for single-channel source separation."""

import os

# TensorFlow's C++ start-up chatter (CPU features, missing CUDA) drowns the stage logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow's default CPU allocator hands large buffers back to the system after every op, so each training step
# faults them in again page by page; its BFC allocator keeps them. Measured on the default Conv-TasNet, 2 cores:
# 3.2 to 3.6 s a step without, 1.05 to 1.24 s with (bench/train_step.py, bench/train_profile.py). An explicit setting in
# the environment wins.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

__version__ = "0.1.0"
