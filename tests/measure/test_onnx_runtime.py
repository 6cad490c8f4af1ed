import pytest
from torch import nn

from intensity.measure.folding import bench_folding
from intensity.measure.onnx_runtime import runtime_throughput


def test_onnxruntime_throughput_of_a_tiny_cnn():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    t = runtime_throughput(model, 4, (3, 8, 8), runtime="onnxruntime", iters=2, trials=2, threads=1)
    assert t.images_per_s > 0 and t.threads == 1 and len(t.trial_images_per_s) == 2


def test_bench_folding_in_onnxruntime():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    results = bench_folding(model, (3, 8, 8), [2], batch=8, peak_flops=1e12, iters=2, trials=2, threads=1,
                            runtime="onnxruntime")
    assert [r.f for r in results] == [1, 2] and results[0].speedup == 1.0 and results[1].images_per_s > 0


@pytest.mark.parametrize("options,match", [({"runtime": "tvm"}, "torch or onnxruntime"),
                                           ({"runtime": "onnxruntime", "dtype": "fp16"}, "fp32")])
def test_bad_runtime_options(options, match):
    with pytest.raises((KeyError, ValueError), match=match):
        runtime_throughput(nn.Linear(2, 2), 1, (2,), **options)
