"""Training: the fit loop with its validation separations and dvclive logging, and tf.distribute strategies."""
