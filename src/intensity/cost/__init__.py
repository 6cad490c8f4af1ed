"""The cost engine: capture (counter), per-op formulas, fusion policies, reuse and the result.

It imports nothing above it: names and devices are resolved by `intensity.api`.
"""
from intensity.cost.analyze import count_costs
from intensity.cost.result import CostReport, Totals

__all__ = ["CostReport", "Totals", "count_costs"]
