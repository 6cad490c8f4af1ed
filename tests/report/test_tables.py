"""Report tables: labels with units, hand-checked numbers, no NaN, rich and HTML from one Grid."""
from __future__ import annotations

from rich.console import Console

from intensity.analysis.batch_sweep import SweepPoint
from intensity.report.tables import (bottleneck_grid, kernel_grid, kernel_label, measurement_grid, milliseconds,
                                     number, rich_table, significant, sweep_grid, totals_grid, uncounted_grid)

from .conftest import make_measurement


def _render(table) -> str:
    console = Console(width=250, record=True)
    console.print(table)
    return console.export_text()


def test_number_formats_read_as_people_write_them():
    assert significant(0.00312) == "0.00312" and significant(1234.5) == "1,234" and significant(0) == "0"
    assert milliseconds(0.000123) == "0.123" and milliseconds(1.5) == "1,500"
    assert number(float("nan")) == "-" and significant(float("nan")) == "-" and number(None) == "-"


def test_kernel_label_is_the_module_path():
    assert kernel_label("layer1.0.conv1", "conv") == "layer1.0.conv1"
    assert kernel_label("0", "conv") == "0 conv"  # a bare Sequential index gets its op
    assert kernel_label("", "add") == "(model) add"


def test_kernel_grid_rows_by_hand(tiny_report, tiny_line):
    grid = kernel_grid(tiny_report, tiny_line)
    assert grid.columns[:8] == ("#", "kernel (module)", "op", "output shape", "GFLOP", "MB",
                                "intensity (flop/B)", "batch-limited limit (flop/B)")
    assert grid.columns[-3:] == ("min latency (ms)", "time (%)", "bound")
    conv, pool = grid.rows
    # conv: 15,552 flops over 1,536 + 432 + 1,152 = 3,120 B -> 4.98 flop/B; limit 15,552 / 2,688 = 5.79.
    assert conv[1:7] == ("features.0", "conv standard 3x3", "2x4x6x6", "0.0000156", "0.00312", "4.98")
    assert conv[7] == "5.79" and conv[-1] == "memory"  # 4.98 < v100 fp32 op:byte 17.4
    # pool: no flops, 1,152 + 288 = 1,440 B; both kernels are memory bound so shares add to 100%.
    assert pool[1:6] == ("features.1", "pool", "2x4x3x3", "0", "0.00144")
    assert abs(float(conv[-2]) + float(pool[-2]) - 100) < 0.2
    assert not any("nan" in cell.lower() for row in grid.rows for cell in row)


def test_kernel_grid_without_a_waterline_keeps_the_bound(tiny_report):
    grid = kernel_grid(tiny_report)
    assert "min latency (ms)" not in grid.columns and grid.columns[-1] == "bound"


def test_totals_grid_labels_carry_units(tiny_report):
    rows = dict(totals_grid(tiny_report).rows)
    assert rows["flops"] == "15.55 kFLOP" and rows["MACs"] == "7.78 kMAC"
    # 15,552 / (2,688 + 432 + 1,440) = 3.41 flop/B
    assert rows["mediant intensity (flop/B)"] == "3.41"
    assert rows["v100 op:byte (fp32, flop/B)"] == "17.44"  # 15.7 TFLOP/s / 900 GB/s


def test_uncounted_ops_are_listed(tiny_report):
    assert uncounted_grid(tiny_report).rows == [("sort", "1", "(model)")]


def test_bottlenecks_name_kernels_by_module(tiny_line):
    names = [row[0] for row in bottleneck_grid(tiny_line).rows]
    assert set(names) == {"features.0", "features.1"}


def test_sweep_grid_units():
    grid = sweep_grid([SweepPoint(4, 10.0, 20.0, 0.25, 0.002, 2000.0)], "t")
    assert grid.rows == [("4", "10.00", "20.00", "25.0", "2.00", "2,000", "-", "-")]  # no estimate given
    assert "bound: latency (ms)" in grid.columns and "estimate: utilization (%)" in grid.columns


def test_measurement_grid_says_where_it_ran():
    rows = dict(measurement_grid(make_measurement().to_dict()).rows)
    assert rows["measured on"] == "cpu" and rows["dtype"] == "fp32" and rows["batch"] == "8"
    assert rows["images/s, median of trials (min - max)"] == "100.0 (90.0 - 110.0)"
    assert rows["utilization (%)"] == "10.0" and rows["latency per batch (ms)"] == "80.0"
    assert rows["accuracy"] == "-"


def test_rich_table_marks_memory_bound_red(tiny_report):
    table = rich_table(kernel_grid(tiny_report))
    assert "[red]memory[/]" in list(table.columns[-1]._cells)
    assert "features.0" in _render(table)
