"""Model transforms: folding (seed 000) and, next, compound scaling."""
