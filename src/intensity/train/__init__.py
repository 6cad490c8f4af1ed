"""Training original and folded CNNs (seed 000 4.2, 5.1, 5.4)."""
