"""Measurement of real inference: throughput, utilization (and, later, energy)."""
