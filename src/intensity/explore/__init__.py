"""Design-space exploration: spaces, sweeps into a results store, Pareto frontiers, search with
approximate filtering, local/global changes (Table 4.1) and the survey of published measurements."""
