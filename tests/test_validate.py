"""validate.py: every checker returns the value or raises the library's error naming the parameter,
the range with its unit, and an example."""
import math

import pytest

from intensity.errors import ParameterError, ParameterTypeError, TooLargeError
from intensity.validate import (
    LARGEST_DEVICE_BYTES, check_fits, check_flag, check_fraction, check_int, check_names, check_number,
    check_positive, check_text, device_warning, human_bytes,
)


def test_numbers_in_range_come_back_as_floats():
    assert check_number(3, "x", low=0, high=5) == 3.0 and isinstance(check_number(3, "x"), float)
    assert check_fraction(0, "share") == 0.0 and check_fraction(1, "share") == 1.0
    assert check_positive(900, "bandwidth_gbs", unit="GB/s") == 900.0


@pytest.mark.parametrize(("value", "fragment"), [
    (math.inf, "`bandwidth_gbs` must be a finite number (in GB/s), got inf; e.g. 900"),
    (math.nan, "finite number"), (-math.inf, "finite number"),
    (0, "`bandwidth_gbs` must be a positive number (in GB/s), got 0; e.g. 900"),
    (-5.0, "got -5.0"),
])
def test_positive_refuses_zero_negative_and_non_finite(value, fragment):
    with pytest.raises(ParameterError) as error:
        check_positive(value, "bandwidth_gbs", unit="GB/s", example="900")
    assert fragment in str(error.value)


@pytest.mark.parametrize("value", ["900", True, None, [1]])
def test_non_numbers_are_type_errors_that_are_also_value_errors(value):
    with pytest.raises(ParameterTypeError, match="`peak_tflops` must be a number") as error:
        check_number(value, "peak_tflops")
    assert isinstance(error.value, TypeError) and isinstance(error.value, ValueError)


def test_ranges_are_written_with_their_ends():
    with pytest.raises(ParameterError, match=r"in \[-8, 8\]"):
        check_number(9, "phi", low=-8, high=8)
    with pytest.raises(ParameterError, match=r"in \(0, 1\)"):
        check_number(1, "p", low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(ParameterError, match="<= 2"):
        check_number(3, "p", high=2)


def test_integers():
    assert check_int(4, "batch") == 4 and check_int(2.0, "f") == 2
    with pytest.raises(ParameterError, match="`batch` must be a positive integer, got 0"):
        check_int(0, "batch")
    with pytest.raises(ParameterError, match=r"`k` must be an integer in \[2, 4\], got 5"):
        check_int(5, "k", low=2, high=4)
    for bad in (2.5, "3", True):
        with pytest.raises(ParameterTypeError, match="`batch` must be an integer"):
            check_int(bad, "batch")


def test_names_flags_and_text():
    assert check_names("conv", "only") == ("conv",) and check_names(["a", "b"], "only") == ("a", "b")
    assert check_names(None, "only") == () and check_names("", "only") == ()
    with pytest.raises(ParameterTypeError, match="`only` must be a list of names"):
        check_names(5, "only")
    assert check_flag(None, "image_list") is None
    with pytest.raises(ParameterTypeError, match="`image_list` must be True, False or None"):
        check_flag("yes", "image_list")
    with pytest.raises(ParameterTypeError, match="`model` must be a name"):
        check_text(None, "model")
    with pytest.raises(ParameterError, match="`model` is empty"):
        check_text("  ", "model")


def test_sizes_are_refused_with_the_estimate_before_allocating():
    check_fits(1e9, "x", "fix", limit=2e9)
    with pytest.raises(TooLargeError, match=r"the weights would need about 1.7 TB, more than the "
                                            r"limit \(1 TB\); give a smaller `f`"):
        check_fits(1.7e12, "the weights", "give a smaller `f`", limit=1e12)
    with pytest.raises(TooLargeError, match=r"about 1e\+18 PB, more than this machine's memory"):
        check_fits(1e33, "x", "fix")  # the default limit: physical memory
    with pytest.raises(TooLargeError, match=r"more than the free space \(2 GB\)"):
        check_fits(3e9, "images", "fix", limit=2e9, room="the free space")


def test_human_bytes_and_device_warning():
    assert human_bytes(1.7e12) == "1.7 TB" and human_bytes(512) == "512 B" and human_bytes(2.5e6) == "2.5 MB"
    assert device_warning(LARGEST_DEVICE_BYTES, "x") is None
    assert "more than any accelerator's memory" in device_warning(1e15, "the activations")
