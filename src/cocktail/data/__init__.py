"""Corpora to mixtures to training batches: reading corpora, the prepared manifest, drawing mixtures (with noise and rooms), feature shards and the tf.data input."""
