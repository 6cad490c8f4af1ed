"""Analyses over cost reports: reuse metrics (seed 004); roofline and waterline build here too."""
