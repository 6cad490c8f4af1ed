"""The Python API validates its parameters: the library's own errors, naming the parameter, never
an AttributeError or RuntimeError from inside; warnings for results no device can hold."""
import math

import pytest

from intensity import analyze, create_model
from intensity.errors import ParameterError, ParameterTypeError, TooLargeError
from intensity.hardware import get_spec


@pytest.mark.parametrize(("options", "error", "fragment"), [
    ({"device": 123}, ParameterTypeError, "`device` must be a device name"),
    ({"device": "v100", "bandwidth_gbs": math.inf}, ParameterError, "`bandwidth_gbs` must be a finite number (in GB/s)"),
    ({"device": "v100", "peak_tflops": math.nan}, ParameterError, "`peak_tflops` must be a finite number (in TFLOP/s)"),
    ({"device": "v100", "peak_tflops": "fast"}, ParameterTypeError, "`peak_tflops` must be a number"),
    ({"alpha": math.nan}, ParameterError, "`alpha` must be a finite number in [0, 1]"),
    ({"alpha": "0.8"}, ParameterTypeError, "`alpha` must be a number"),
    ({"batch": 2.5}, ParameterTypeError, "`batch` must be an integer"),
    ({"only": 5}, ParameterTypeError, "`only` must be a list of names"),
    ({"blocks": 5}, ParameterTypeError, "`blocks` must be a list of names"),
    ({"name": 5}, ParameterTypeError, "`name` must be a name"),
    ({"image_list": "yes"}, ParameterTypeError, "`image_list` must be True, False or None"),
    ({"batch": 2**60}, TooLargeError, "more than a tensor can index"),
])
def test_bad_parameters_raise_the_library_errors(options, error, fragment):
    with pytest.raises(error) as raised:
        analyze("noscope-coral", **options)
    assert fragment in str(raised.value)


@pytest.mark.parametrize("model", [None, 42, ""])
def test_bad_models_are_named(model):
    with pytest.raises(ValueError, match="`model`"):
        analyze(model)


def test_create_model_validates_name_and_counts():
    with pytest.raises(ParameterTypeError, match="`name` must be a model name"):
        create_model(None)
    with pytest.raises(ParameterError, match="`num_classes` must be a positive integer, got -3"):
        create_model("nin", num_classes=-3)
    with pytest.raises(ParameterTypeError, match="`num_classes` must be an integer"):
        create_model("nin", num_classes="ten")


def test_infinite_bandwidth_is_refused_by_the_spec_too():
    with pytest.raises(ParameterError, match="`bandwidth_gbs` must be a finite number"):
        get_spec("v100", bandwidth_gbs=math.inf)
    assert get_spec("v100", "fp16", bandwidth_gbs=450).op_byte("fp16") == pytest.approx(125e12 / 450e9)


def test_only_matching_nothing_warns_and_reports_no_intensity():
    report = analyze("noscope-coral", only=["attention"])
    assert report.kernels == [] and report.totals.to_dict()["intensity"] is None
    assert any("`only` attention matches no kernel" in w for w in report.warnings)
    assert analyze("noscope-coral", only="conv").kernels  # one name as a string is one kind


def test_a_batch_no_device_holds_is_counted_with_a_warning():
    report = analyze("noscope-coral", batch=2**40)  # meta tensors: nothing is allocated
    # the input alone: 2^40 x 3 x 50 x 50 x 4 bytes = 3.3e16 bytes, far beyond 192 GB
    assert report.totals.flops == 2**40 * analyze("noscope-coral").totals.flops
    assert any("more than any accelerator's memory" in w for w in report.warnings)
    assert not analyze("noscope-coral", batch=64).warnings


def test_an_integral_float_batch_is_used_as_an_int():
    import torch

    import intensity
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3))
    assert intensity.analyze(net, batch=2.0, input_shape=(3, 8, 8)).batch == 2
