"""Numbers several modules must agree on, defined once (tests/test_constants.py keeps them so)."""

EPS = 1e-8  # the floor under divisions by energies, norms and mask sums
PEAK = 0.9  # the largest sample value the pipeline writes: the embedded corpus's speech, and mixtures as wsj0-2mix scales them
