"""Signal processing every stage shares: the one audio reader and writer, the one STFT, the ideal masks, and the spectral settings a trained model carries."""
