"""Separating with a trained model: test mixtures in memory and long recordings streamed in blocks."""
