from __future__ import annotations

import json
from pathlib import Path

import pytest

from intensity.api import analyze
from intensity.explore.spaces import (
    NATS_SIZE, iter_points, make_space, nats_arch, nats_index, parse_grid,
)

RECORDS = json.loads((Path(__file__).parent / "data" / "sss-records.json").read_text())


def test_nats_index_convention_and_round_trip_of_all_32768():
    assert nats_arch(0) == "8:8:8:8:8"
    assert nats_arch(11) == "8:8:8:16:32"  # 11 = 1*8 + 3: slot 4 -> 16, slot 5 -> 32
    assert nats_arch(32767) == "64:64:64:64:64"
    assert all(nats_index(nats_arch(i)) == i for i in range(NATS_SIZE))
    assert make_space("nats-size").size == 32768


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_nats_records_params_and_macs_exact(dataset):
    space = make_space("nats-size", dataset=dataset)
    for record in RECORDS:
        published = record["datasets"][dataset]
        assert nats_arch(record["index"]) == record["arch"]
        report = analyze(space.build(record["arch"]), input_shape=space.input_shape)
        assert report.totals.params == round(published["params_M"] * 1e6)
        # NATS-Bench's "flop" = conv + linear MACs + the classifier's bias adds (one per class)
        assert report.totals.macs + space.num_classes == round(published["flop_M"] * 1e6)


def test_nats_dataset_variants():
    assert make_space("nats-size", dataset="ImageNet16-120").input_shape == (3, 16, 16)
    assert make_space("nats-size", dataset="cifar100").num_classes == 100
    with pytest.raises(ValueError, match="unknown NATS dataset"):
        make_space("nats-size", dataset="mnist")


def test_fire_space_over_user_ranges_and_bypass_variants():
    space = make_space("fire", grid={"base_e": ["64", "128"], "bypass": ["none", "simple", "complex"]})
    assert space.size == 6
    assert space.point(0) == "base_e=64,incr_e=128,pct3x3=0.5,freq=2,sr=0.125,bypass=none"
    # base_e=128 with SqueezeNet's other defaults is SqueezeNet v1.0 (seed 002 5.5.1)
    default = space.canonical("base_e=128,incr_e=128,pct3x3=0.5,freq=2,sr=0.125,bypass=none")
    params = sum(p.numel() for p in space.build(default).parameters())
    assert params == 1_248_424  # SqueezeNet v1.0, torchvision's count
    with pytest.raises(ValueError, match="no metaparameter"):
        make_space("fire", grid={"depth": ["1"]})
    with pytest.raises(ValueError, match="unknown bypass"):
        make_space("fire", grid={"bypass": ["some"]})


def test_generic_grid_over_a_zoo_model():
    space = make_space("squeezenet1_1", grid=parse_grid(["num_classes=10,100"]))
    assert space.points() == ["num_classes=10", "num_classes=100"]
    assert space.kwargs("num_classes=100") == {"num_classes": 100}
    assert space.build("num_classes=10")[-4].out_channels == 10
    with pytest.raises(ValueError, match="no keyword argument width"):
        make_space("squeezenet1_1", grid={"width": ["1"]})
    with pytest.raises(KeyError, match="unknown space"):
        make_space("no-such-space")


@pytest.mark.parametrize("text", ["width", "width=", "width=1,,2", "=1", "9x=1"])
def test_malformed_grid(text):
    with pytest.raises(ValueError, match="malformed grid"):
        parse_grid([text])


def test_point_selection_and_sample():
    space = make_space("nats-size")
    assert list(iter_points(space, ["11", "8:8:8:8:8"])) == ["8:8:8:16:32", "8:8:8:8:8"]
    assert len(list(iter_points(space, sample=5, seed=1))) == 5
    with pytest.raises(ValueError, match="invalid NATS size channels"):
        list(iter_points(space, ["8:8:8"]))
    with pytest.raises(ValueError, match="out of range"):
        list(iter_points(space, ["32768"]))


def test_spaces_and_evaluators_come_from_registries():
    from intensity.explore.evaluators import EVALUATORS
    from intensity.explore.spaces import SPACES, space_descriptions

    assert SPACES.names() == ["fire", "nats-size"] and EVALUATORS.names() == ["table", "train"]
    assert space_descriptions()["nats-size"].startswith("NATS-Bench size space")
    assert list(space_descriptions())[-1] == "MODEL"  # any zoo model, with --grid
