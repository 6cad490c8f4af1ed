"""Design-space exploration: Pareto frontiers (sweeps and filtered search build here)."""
