"""Report figures: they render, name their kernels by module, and keep zero-flop kernels visible."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from intensity.analysis.batch_sweep import SweepPoint
from intensity.report import plots

from .conftest import make_measurement


def _texts(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts]


def _key(figure) -> list[str]:
    return [t.get_text() for t in figure.texts]


def test_roofline_labels_the_slowest_kernels(tiny_line):
    figure = plots.roofline_figure(tiny_line, "tiny on v100 fp32")
    slowest, other = sorted(tiny_line.kernels, key=lambda k: k.latency, reverse=True)
    total = slowest.latency + other.latency
    # Points carry ranks (1 = slowest); the key at the right names them by module path.
    assert sorted(_texts(figure)) == ["1", "2"]
    assert _key(figure)[1:] == [f"1  {slowest.name}  ({slowest.latency / total:.0%})",
                                f"2  {other.name}  ({other.latency / total:.0%})"]
    only_one = plots.roofline_figure(tiny_line, "t", labels=1)
    assert _texts(only_one) == ["1"] and len(_key(only_one)) == 2 and slowest.name in _key(only_one)[1]
    plt.close("all")


def test_roofline_keeps_the_zero_flop_pool_visible(tiny_line):
    figure = plots.roofline_figure(tiny_line, "t")
    axes = figure.axes[0]
    # The pool (0 flops, intensity 0) is drawn at the left edge, inside the axes, not dropped.
    points = [tuple(c.get_offsets()[0]) for c in axes.collections if len(c.get_offsets())]
    assert len(points) == 2
    left = min(x for x, _ in points)
    assert left > 0 and axes.get_xlim()[0] <= left
    assert "no flops (drawn at left edge)" in [t.get_text() for t in axes.get_legend().get_texts()]
    plt.close("all")


def test_waterline_names_bars_and_states_efficiency(tiny_line):
    figure = plots.waterline_figure(tiny_line, "tiny (v100, fp32)")
    assert set(_texts(figure)) == {"features.0", "features.1"}
    assert figure.axes[0].get_title().endswith(f"max efficiency {tiny_line.efficiency:.0%}")
    plt.close("all")


def test_traffic_axis_is_module_names(tiny_report):
    figure = plots.traffic_figure(tiny_report)
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == ["features.0", "features.1"]
    assert figure.axes[0].get_ylabel() == "DRAM traffic (MB)"
    plt.close("all")


def test_gap_figure_needs_accuracies():
    record = make_measurement().to_dict()
    with pytest.raises(ValueError, match="accuracy"):
        plots.gap_figure([record], "no accuracy")
    figure = plots.gap_figure([make_measurement(accuracy=0.9).to_dict()], "with accuracy")
    assert _texts(figure) == ["noscope-coral"]
    plt.close("all")


def test_figures_save_as_png_and_svg(tmp_path, tiny_line):
    sweep = [SweepPoint(b, 2.0 * b, 40.0, 0.1 * b, 1e-3 * b, 1000.0) for b in (1, 2, 4)]
    paths = plots.save(plots.sweep_figure(sweep, "sweep"), tmp_path, "sweep")
    assert set(paths) == {"png", "svg"}
    with open(paths["png"], "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in open(paths["svg"]).read(500)


def test_comm_figure_one_line_per_strategy():
    records = [{"workers": p, "strategy": name, "comm_ms": ms} for name, ms in (("ring", 1.0), ("tree", 2.0))
               for p in (1, 2, 4)]
    figure = plots.comm_figure(records, "tiny")
    assert [line.get_label() for line in figure.axes[0].lines] == ["ring", "tree"]
    plt.close(figure)
