"""--input once per model input (with dtypes), and the warnings analyze prints."""
import json
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from intensity.cli import app

runner = CliRunner()

MODELS = '''
import torch
from torch import nn


class TwoImages(nn.Module):
    def __init__(self):
        super().__init__()
        self.rgb, self.depth = nn.Conv2d(3, 8, 3), nn.Conv2d(1, 8, 3)

    def forward(self, rgb, depth):
        return self.rgb(rgb) + self.depth(depth)


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.head = nn.Embedding(100, 16), nn.Linear(16, 4)

    def forward(self, ids):
        return {"logits": self.head(self.embed(ids)).mean(1)}


def two_images():
    return TwoImages()


def tokens():
    return Tokens()
'''


@pytest.fixture(scope="module")
def models_on_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-inputs")
    (folder / "cli_input_models.py").write_text(textwrap.dedent(MODELS))
    sys.path.insert(0, str(folder))
    yield
    sys.path.remove(str(folder))


def test_input_given_once_per_model_input(models_on_path):
    result = runner.invoke(app, ["analyze", "cli_input_models:two_images", "--input", "3x8x8", "--input", "1x8x8",
                                 "-b", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["inputs"] == ["3x8x8", "1x8x8"] and data["totals"]["flops"] == 2 * 576 * (27 + 9)


def test_token_ids_with_a_dtype_and_a_dict_output(models_on_path):
    result = runner.invoke(app, ["roofline", "cli_input_models:tokens", "--input", "128:int64", "--device", "v100",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output


def test_analyze_warns_when_only_matches_nothing():
    result = runner.invoke(app, ["analyze", "noscope-coral", "--only", "attention", "--format", "json"])
    assert result.exit_code == 0
    assert "warning: --only attention matches no kernel" in result.stderr
    assert json.loads(result.stdout)["totals"]["intensity"] is None


def test_analyze_warns_for_a_batch_no_device_holds():
    result = runner.invoke(app, ["analyze", "noscope-coral", "-b", str(2**40), "--format", "json"])
    assert result.exit_code == 0 and "more than any accelerator's memory" in result.stderr
