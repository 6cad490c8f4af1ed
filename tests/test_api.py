"""The cost engine end to end: seed figures, the batch-limited regime, agreement with torch."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from intensity import analyze
from intensity.api import parse_input_shape


def _conv_intensity(batch: int, channels: int, groups: int = 1, bias: bool = False, **kw) -> float:
    layer = nn.Conv2d(channels, channels, 3, padding=1, groups=groups, bias=bias)
    report = analyze(layer, batch=batch, input_shape=(channels, 11, 26), dtype="fp16", **kw)
    return report.totals.intensity


def test_seed000_table6_original_layer():
    # M = 2 * (1024*11*26*32*2 + 32*9*32) = 37,505,024 bytes; O = 5,398,069,248; O/M = 143.93
    report = analyze(nn.Conv2d(32, 32, 3, padding=1, bias=False), batch=1024,
                     input_shape=(32, 11, 26), dtype="fp16")
    kernel = report.kernels[0]
    assert (kernel.flops, kernel.bytes) == (5_398_069_248, 37_505_024)
    assert round(kernel.intensity, 2) == 143.93


def test_seed000_table6_folded_layer():
    # M = 2 * (256*11*26*64*2 + 64*9*64) = 18,817,024 bytes; O/M = 286.87
    assert round(_conv_intensity(256, 64), 2) == 286.87


def test_game_cnn_v1_b_convs_run_at_10x25():
    # unpadded pools (the authors' code): 22x52 -> MaxPool2d(3, 2) -> 10x25, so Table 6's 11x26 is a
    # worked example, not V1's layer. O = 2*1024*10*25*32*32*9 = 4,718,592,000;
    # M = 2 * (1024*10*25*32*2 + 32*9*32 + 32 bias) = 32,786,496 bytes; O/M = 143.92
    report = analyze("game-lol-gold1", batch=1024, dtype="fp16")
    b_convs = [k for k in report.kernels if k.op == "conv" and k.input_shape == [1024, 32, 10, 25]
               and k.output_shape == [1024, 32, 10, 25]]
    assert len(b_convs) == 3
    assert {round(k.intensity, 2) for k in b_convs} == {143.92}


def test_intensity_approaches_the_batch_limited_limit():
    # Eqn 4 in bytes: 2 Co Ci K^2 / (B (Ci + Co)) = 2*32*32*9 / (2*64) = 144 flop/byte
    limits = {round(analyze(nn.Conv2d(32, 32, 3, padding=1, bias=False), batch=n,
                            input_shape=(32, 11, 26), dtype="fp16").totals.intensity_limit, 6)
              for n in (1, 64)}
    assert limits == {144.0}
    intensities = [_conv_intensity(n, 32) for n in (1, 16, 256, 4096, 65536)]
    assert intensities == sorted(intensities)
    assert 144 - intensities[-1] < 0.01 < 144 - intensities[2]


def test_group_conv_limit_is_g_times_lower():
    # seed 000 App. C: lim A = 2 Co Ci K^2 / (Ci + Co) / G
    dense = analyze(nn.Conv2d(32, 32, 3, padding=1), batch=8, input_shape=(32, 50, 50)).totals
    grouped = analyze(nn.Conv2d(32, 32, 3, padding=1, groups=4), batch=8,
                      input_shape=(32, 50, 50)).totals
    assert dense.intensity_limit == pytest.approx(4 * grouped.intensity_limit)


def test_seed000_game_cnns_intensity_at_large_batch():
    # seed 000 2.2: "the half-precision arithmetic intensities of the CNNs used in the game-scraping
    # tasks are 88-102 at large batch sizes" (conv and FC layers, each read/written once).
    # With the authors' unpadded pools we get 87.0 (V1) to 102.0 (V4); see models/specialized.py.
    for name in ("game-lol-gold1", "game-apex-count", "game-sot-coin", "game-sot-time"):
        report = analyze(name, batch=1024, dtype="fp16", fusion="none", only=["conv", "linear"])
        assert 87 <= report.totals.intensity <= 102.5, name


def test_fusion_none_only_conv_linear_is_seed000_accounting():
    # NoScope coral at batch 2, fp32: conv1 3->16 50x50, conv2 16->16, pool, fc 10000->128, fc 128->2.
    report = analyze("noscope-coral", batch=2, fusion="none", only=["conv", "linear"])
    act = 2 * 50 * 50
    expected = [  # (input elements, weight elements incl. bias, output elements)
        (act * 3, 16 * 3 * 9 + 16, act * 16),
        (act * 16, 16 * 16 * 9 + 16, act * 16),
        (2 * 10000, 10000 * 128 + 128, 2 * 128),
        (2 * 128, 128 * 2 + 2, 2 * 2),
    ]
    got = [(k.input_elements, k.weight_elements, k.output_elements) for k in report.kernels]
    assert got == expected
    assert report.totals.bytes == 4 * sum(sum(row) for row in expected)


@pytest.mark.parametrize("name", [
    "torchvision:resnet18", "torchvision:mobilenet_v3_small", "torchvision:squeezenet1_1",
    "torchvision:densenet121", "timm:convnext_atto", "timm:regnetx_002", "timm:efficientnet_b0",
])
def test_flops_and_params_agree_with_torch(name):
    report = analyze(name, batch=2)
    from intensity.models import resolve_model

    model = resolve_model(name).module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(2, *report.input_shape))
    assert report.totals.flops == pytest.approx(counter.get_total_flops(), rel=0.005)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.capture == "meta" and not report.uncounted


def test_flops_independent_of_batch_per_image():
    per_image = {analyze("torchvision:resnet18", batch=n).totals.flops // n for n in (1, 7, 1024)}
    assert len(per_image) == 1


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="`batch` must be a positive integer"):
        analyze("noscope-coral", batch=0)
    with pytest.raises(ValueError, match="malformed input shape"):
        parse_input_shape("3x224xx")
    with pytest.raises(ValueError, match="positive dimensions"):
        parse_input_shape("3x0x4")
    with pytest.raises(ValueError, match="unknown kernel kind convv"):
        analyze("noscope-coral", only=["convv"])
    with pytest.raises(ValueError, match=r"`alpha` must be a finite number in \[0, 1\]"):
        analyze("noscope-coral", alpha=1.5)
    with pytest.raises(ValueError, match="give `device` too"):
        analyze("noscope-coral", peak_tflops=10.0)


def test_report_serialises_the_documented_keys():
    report = analyze("noscope-coral", batch=4, dtype="fp16", device="v100")
    data = report.to_dict()
    assert {"model", "batch", "dtype", "device", "fusion", "totals", "kernels", "uncounted"} <= set(data)
    assert {"flops", "macs", "params", "bytes", "intensity", "intensity_limit", "weight_reuse",
            "activation_reuse", "ai_c", "di"} <= set(data["totals"])
    assert {"name", "op", "flops", "bytes", "intensity", "bound"} <= set(data["kernels"][0])
    assert data["device"]["op_byte"] == pytest.approx(125e12 / 900e9)
    frame = report.to_frame()
    assert list(frame["name"]) == [k.name for k in report.kernels]
    assert frame["flops"].sum() == report.totals.flops


def test_deeplabv3_macs_match_torchvision_published_ops():
    # torchvision's weights metadata: DeepLabV3_ResNet50 `_ops` = 178.722 (MACs, labelled GFLOPS),
    # with the auxiliary FCN head, at 3x520x520
    report = analyze("torchvision:deeplabv3_resnet50")
    assert report.input_shape == [3, 520, 520] and report.capture == "meta"
    macs = sum(k.flops for k in report.kernels if k.op in ("conv", "linear")) / 2e9
    assert macs == pytest.approx(178.72, rel=0.01)
    assert any(k.name.startswith("aux_classifier") for k in report.kernels)


def test_detection_model_takes_a_list_of_images_and_lists_data_dependent_ops():
    # nonzero/topk/nms cannot run on meta or fake tensors: the model is rebuilt with real random
    # weights and run on `batch` real 3x800x800 images; post-processing ops are listed, not costed
    report = analyze("torchvision:fasterrcnn_mobilenet_v3_large_fpn")
    assert report.capture == "real"
    assert {"nonzero", "topk", "torchvision::nms", "torchvision::roi_align"} <= {u.op for u in report.uncounted}
    assert report.totals.flops > 0 and any(k.name.startswith("backbone") for k in report.kernels)
    assert any("built the model with real (random) weights" in note for note in report.notes)


def test_torch_dtypes_are_accepted_like_names():
    # fp16 halves every byte count of fp32, whichever way the dtype is named
    by_name = analyze("noscope-coral", batch=2, dtype="fp16").totals.bytes
    assert analyze("noscope-coral", batch=2, dtype=torch.float16).totals.bytes == by_name
    assert analyze("noscope-coral", batch=2, dtype="half").totals.bytes == by_name
    assert analyze("noscope-coral", batch=2, dtype=torch.float32).totals.bytes == 2 * by_name
    with pytest.raises(ValueError, match="unsupported dtype torch.complex64"):
        analyze("noscope-coral", dtype=torch.complex64)
