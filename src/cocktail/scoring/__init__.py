"""How good a separation is: BSS Eval, SI-SNR, PESQ and STOI per source, the oracle masks' ceiling, the evaluate stage's test-set run and the experiments' results table."""
