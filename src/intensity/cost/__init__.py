"""The cost engine: capture (counter), per-op formulas, fusion policies and the report."""
from intensity.cost.analyze import analyze, parse_input_shape
from intensity.cost.report import CostReport, Totals

__all__ = ["CostReport", "Totals", "analyze", "parse_input_shape"]
