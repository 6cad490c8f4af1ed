"""N-objective frontiers and hypervolume (moocore) on hand-made point sets."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("moocore")

from intensity.explore.pareto import frontier, hypervolume, nondominated, parse_objectives  # noqa: E402


def test_nondominated_two_objectives_maximised():
    values = np.array([[1, 5], [2, 4], [3, 1], [1, 1], [2, 2], [3, 1]], dtype=float)
    # (1,1) and (2,2) are dominated by (2,4); the two (3,1) tie and both stay
    assert nondominated(values, [True, True]) == [0, 1, 2, 5]
    assert nondominated(values, [True, False]) == [2, 5]  # max x, min y


def test_hypervolume_by_hand():
    # staircase of (1,5), (2,4), (3,1) above the origin: 1x5 + 1x4 + 1x1 = 10
    front = np.array([[1, 5], [2, 4], [3, 1]], dtype=float)
    assert hypervolume(front, [True, True], [0, 0]) == pytest.approx(10.0)
    # three objectives: one box 2x3x4 = 24, a second (1,1,5) adds 1x1x1 above z=4
    boxes = np.array([[2, 3, 4], [1, 1, 5]], dtype=float)
    assert hypervolume(boxes, [True] * 3, [0, 0, 0]) == pytest.approx(25.0)


def test_frontier_of_records_and_objectives():
    records = [{"accuracy": 90, "images_per_s": 10}, {"accuracy": 80, "images_per_s": 20},
               {"accuracy": 70, "images_per_s": 15}]
    front = frontier(records, parse_objectives("accuracy:max,throughput:max"))
    assert front.members == [0, 1]
    assert front.hypervolume == pytest.approx(90 * 10 + 80 * 10)  # 1700
    with pytest.raises(ValueError, match="lack accuracy"):
        frontier([{"images_per_s": 1}], parse_objectives("accuracy:max,throughput:max"))


@pytest.mark.parametrize("text, message", [
    ("accuracy:max,speed:max", "unknown objective 'speed'"),
    ("accuracy,throughput:max", "malformed objective"),
    ("accuracy:max", "two or more"),
    ("accuracy:max,accuracy:min", "two or more"),
])
def test_bad_objectives(text, message):
    with pytest.raises(ValueError, match=message):
        parse_objectives(text, ["accuracy", "images_per_s", "utilization"])
