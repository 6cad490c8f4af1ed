from __future__ import annotations

from intensity.ops import ModelRequest
from intensity.ops import kernels


def test_fuse_without_blocks_says_nothing_was_fused():
    result = kernels.run_fuse(ModelRequest("noscope-coral", batch=2))
    assert result.to_dict()["replaced"] == [] and "nothing was fused" in result.notes[0]


def test_fuse_lists_fused_blocks_as_rows():
    rows = kernels.run_fuse(ModelRequest("convfirstnet-pico", batch=2)).to_rows()
    assert rows and all(row["fused"] for row in rows if not row["reason"])


def test_fusion_grid_off_the_seeds_device_says_so():
    result = kernels.run_fusion_grid(ModelRequest("", batch=128, device="v100"), block="mbconv", network=None)
    assert result.to_rows() and "a5000-base" in result.notes[0]
    seed = kernels.run_fusion_grid(ModelRequest("", batch=128, device="a5000-base"), block="mbconv", network=None)
    assert seed.notes == []
