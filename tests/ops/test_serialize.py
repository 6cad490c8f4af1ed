from __future__ import annotations

from dataclasses import dataclass

from intensity.ops._serialize import jsonable, to_csv


@dataclass
class Point:
    x: float
    shape: list


def test_jsonable_turns_dataclasses_and_non_finite_floats_into_json_values():
    assert jsonable({"p": Point(float("inf"), [1, 2]), "q": (1, float("nan"))}) == {
        "p": {"x": None, "shape": [1, 2]}, "q": [1, None]}


def test_csv_has_one_row_per_record_and_nested_values_as_json():
    assert to_csv([{"a": 1, "b": [1, 2]}, {"a": 2, "c": "x"}]) == 'a,b,c\n1,"[1, 2]",\n2,,x\n'
    assert to_csv([]) == ""
