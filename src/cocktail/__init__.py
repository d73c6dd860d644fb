"""cocktail: a reproducible DVC pipeline for single-channel source separation."""

__version__ = "0.1.0"
