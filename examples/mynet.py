"""A user's own model, in its own file: what `intensity analyze examples/mynet.py:build` loads.

`build` takes no arguments and returns an `nn.Module`; intensity calls it (on the meta device,
so no weights are allocated) and traces one inference pass at the input shape you give.
"""
from torch import nn


def block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """conv 3x3 -> batch norm -> ReLU: one kernel under the default `trivial` fusion."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class MyNet(nn.Module):
    """A small CNN for 3x64x64 images and 10 classes."""

    def __init__(self, num_classes: int = 10, width: int = 32):
        super().__init__()
        self.features = nn.Sequential(block(3, width), block(width, width, 2),
                                      block(width, 2 * width, 2), block(2 * width, 4 * width, 2))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, num_classes))

    def forward(self, x):
        return self.head(self.features(x))


def build() -> nn.Module:
    """The callable named on the command line: no arguments, returns the model."""
    return MyNet()
