"""Data-reuse metrics of seed 004 (Jha et al.): weight reuse, activation reuse, AI_c, DI, d_f.

Units follow DESIGN: `flops` (2 per MAC) per *element*. Seed 004 counts MACs, so its reuse, AI_c and
DI figures are half of ours; ratios (Table III) and the disparity d_f are unit-free.
W = weight elements, A = activation elements (inputs + outputs of each kernel).
"""
from __future__ import annotations

DEFAULT_ALPHA = 0.8  # seed 004 IV-B: Pearson r of DI vs energy efficiency plateaus at 0.8


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def weight_reuse(flops: float, weights: float) -> float | None:
    """Operations per weight element (seed 004: M_c / W). None when there are no weights."""
    return _ratio(flops, weights)


def activation_reuse(flops: float, activations: float) -> float | None:
    """Operations per activation element (seed 004: M_c / A)."""
    return _ratio(flops, activations)


def cumulative_intensity(flops: float, weights: float, activations: float) -> float | None:
    """AI_c = M_c / (W + A): intensity in operations per element, dtype-blind."""
    return _ratio(flops, weights + activations)


def check_alpha(alpha: float) -> float:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] (seed 004 Eqn 4), got {alpha}")
    return alpha


def weighted_intensity(flops: float, weights: float, activations: float,
                       alpha: float = DEFAULT_ALPHA) -> float | None:
    """DI = 1/4 [alpha * activation reuse + (1 - alpha) * weight reuse] (seed 004 Eqn 4).

    A term whose reuse is undefined (no weights, e.g. a pooling kernel) contributes nothing.
    """
    check_alpha(alpha)
    if not flops:
        return 0.0 if (weights or activations) else None
    act = activation_reuse(flops, activations) or 0.0
    wgt = weight_reuse(flops, weights) or 0.0
    return 0.25 * (alpha * act + (1 - alpha) * wgt)


def disparity(ai_c: float | None, di: float | None) -> float | None:
    """d_f = (AI_c - DI) / AI_c x 100 (seed 004 Eqn 5, left-hand side)."""
    if not ai_c or di is None:
        return None
    return (ai_c - di) / ai_c * 100


def disparity_closed_form(a_over_w: float, alpha: float = DEFAULT_ALPHA) -> float:
    """d_f from A/W alone: 75 - 25 alpha W/A - 25 (1 - alpha) A/W.

    Seed 004 prints this as 75 - 6.25 [A/W + 3 W/A], which is the alpha = 0.75 case of the same
    algebra; its Table VIII computes d_f from AI_c and DI with alpha = 0.8. We keep alpha explicit.
    """
    check_alpha(alpha)
    return 75 - 25 * alpha / a_over_w - 25 * (1 - alpha) * a_over_w
