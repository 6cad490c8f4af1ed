"""Block-fusion kernels in plain PyTorch: the reference the Triton kernels are tested against, and
the kernels `fuse` uses where Triton cannot run (seed 001 5.2-5.4).

Batch norms are folded into the preceding conv (`fuse_conv_bn_eval`, eval mode), so a block is a
few weight tensors. Activations are pixel-major: (pixels, channels) views of channels-last tensors.

- FFN (Eqn 32): Z = sum over hidden-channel chunks r of act(X U_r + a_r) V_r + b. Each chunk of
  hidden channels is computed for one tile of pixels, used at once to update the output tile, and
  discarded, so the workspace is `tile x chunk` whatever the expansion ratio.
- ConvFirst: per micro-batch of images, grouped 3x3 (+ folded BN; BlurPool for stride 2), then the
  FFN above accumulating onto the residual (stride 1) or next to BlurPool(x) (stride 2, `cat`).
- MBConv: per micro-batch of images, 1x1 expand + SiLU, grouped 3x3 + SiLU (BlurPool for stride 2),
  Squeeze & Excitation (its pool needs every pixel of an image, so the micro-batch is whole images),
  1x1 project, residual. The hidden tensor exists for one micro-batch only, never for the batch.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

Activation = Callable[[torch.Tensor], torch.Tensor]
PIXEL_TILE = 4096  # pixels per FFN tile: tile x chunk floats stay in cache
HIDDEN_CHUNK = 64  # hidden channels per loop iteration of Eqn 32


def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of `conv` with the eval-mode `bn` after it folded in."""
    if bn is not None:
        conv = fuse_conv_bn_eval(conv.eval(), bn.eval())
    bias = conv.bias if conv.bias is not None else torch.zeros(conv.out_channels)
    return conv.weight.detach().clone(), bias.detach().clone()


def pixels(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N*H*W, C); a view when `x` is channels-last."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


def ffn_chunked(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
                act: Activation = torch.relu_, out: torch.Tensor | None = None, *,
                chunk: int = HIDDEN_CHUNK, tile: int = PIXEL_TILE) -> torch.Tensor:
    """Eqn 32 on pixel-major `x` (P, C): w1 (R, C), w2 (O, R). Adds into `out` (P, O) if given."""
    if out is None:
        out = torch.zeros(x.shape[0], w2.shape[0], dtype=x.dtype, device=x.device)
    out += b2
    u, v = w1.t(), w2.t()  # (C, R), (R, O)
    for p in range(0, x.shape[0], tile):
        xs, zs = x[p:p + tile], out[p:p + tile]
        for r in range(0, u.shape[1], chunk):
            hidden = act(torch.addmm(b1[r:r + chunk], xs, u[:, r:r + chunk]))
            zs.addmm_(hidden, v[r:r + chunk])
    return out


@dataclass
class FFNWeights:
    """An FFN (1x1 conv + BN, activation, 1x1 conv + BN) folded to matrices."""

    w1: torch.Tensor  # (hidden, C)
    b1: torch.Tensor
    w2: torch.Tensor  # (out, hidden)
    b2: torch.Tensor

    @classmethod
    def from_layers(cls, conv1: nn.Conv2d, bn1: nn.BatchNorm2d | None, conv2: nn.Conv2d,
                    bn2: nn.BatchNorm2d | None) -> FFNWeights:
        (w1, b1), (w2, b2) = fold(conv1, bn1), fold(conv2, bn2)
        return cls(w1.flatten(1), b1, w2.flatten(1), b2)

    def __call__(self, x: torch.Tensor, act: Activation = torch.relu_, out: torch.Tensor | None = None,
                 **tiles: int) -> torch.Tensor:
        return ffn_chunked(x, self.w1, self.b1, self.w2, self.b2, act, out, **tiles)


def blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """BlurPool: reflect pad, depthwise Triangle-3, stride 2 (models.layers.BlurPool)."""
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel, stride=2, groups=x.shape[1])


def image_tiles(batch: int, images: int) -> list[slice]:
    return [slice(n, min(n + images, batch)) for n in range(0, batch, images)]


def convfirst_fused(x: torch.Tensor, conv_w: torch.Tensor, conv_b: torch.Tensor, ffn: FFNWeights, *,
                    stride: int = 1, blur_kernel: torch.Tensor | None = None, images: int = 4,
                    **tiles: int) -> torch.Tensor:
    """A ConvFirst block (BN folded) on `images`-image micro-batches; returns channels-last NCHW."""
    n, c, h, w = x.shape
    ho, wo = (h, w) if stride == 1 else ((h + 1) // 2, (w + 1) // 2)
    out = torch.empty(n, ho, wo, c + ffn.w2.shape[0] if stride == 2 else c, dtype=x.dtype, device=x.device)
    x = x.contiguous(memory_format=torch.channels_last)
    for part in image_tiles(n, images):
        xs = x[part]
        y = F.conv2d(xs, conv_w, conv_b, padding=1, groups=c // conv_w.shape[1])
        if stride == 2:
            y, xs = blur(y, blur_kernel), blur(xs, blur_kernel)
        tile_out = out[part].view(-1, out.shape[-1])
        tile_out[:, :c] = pixels(xs)  # the residual (stride 1) or the BlurPool shortcut (stride 2)
        main = tile_out if stride == 1 else tile_out[:, c:]
        if stride == 2:
            main.zero_()
        ffn(pixels(y.contiguous(memory_format=torch.channels_last)), torch.relu_, main, **tiles)
    return out.permute(0, 3, 1, 2)


@dataclass
class SEWeights:
    w_reduce: torch.Tensor  # (reduced, hidden)
    b_reduce: torch.Tensor
    w_expand: torch.Tensor  # (hidden, reduced)
    b_expand: torch.Tensor

    def gate(self, y: torch.Tensor) -> torch.Tensor:
        """Per image and channel gate (N, hidden) from pixel-major-able NCHW `y`."""
        squeeze = F.silu(F.linear(y.mean((2, 3)), self.w_reduce, self.b_reduce))
        return torch.sigmoid(F.linear(squeeze, self.w_expand, self.b_expand))


def mbconv_fused(x: torch.Tensor, expand: tuple[torch.Tensor, torch.Tensor],
                 conv: tuple[torch.Tensor, torch.Tensor], se: SEWeights,
                 project: tuple[torch.Tensor, torch.Tensor], *, stride: int = 1, residual: bool = True,
                 blur_kernel: torch.Tensor | None = None, images: int = 4) -> torch.Tensor:
    """An MBConv block (BN folded) on `images`-image micro-batches; returns channels-last NCHW."""
    n, c, h, w = x.shape
    hidden, out_c = expand[0].shape[0], project[0].shape[0]
    ho, wo = (h, w) if stride == 1 else ((h + 1) // 2, (w + 1) // 2)
    out = torch.empty(n, ho, wo, out_c, dtype=x.dtype, device=x.device)
    x = x.contiguous(memory_format=torch.channels_last)
    for part in image_tiles(n, images):
        xs = x[part]
        y = F.silu(F.conv2d(xs, *expand), inplace=True)
        y = F.conv2d(y, *conv, padding=1, groups=hidden // conv[0].shape[1])
        y = F.silu(blur(y, blur_kernel) if stride == 2 else y, inplace=True)
        y = y * se.gate(y)[:, :, None, None]
        tile_out = out[part].view(-1, out_c)
        tile_out.copy_(pixels(xs) if residual else torch.zeros(()))
        tile_out.addmm_(pixels(y.contiguous(memory_format=torch.channels_last)), project[0].flatten(1).t())
        tile_out += project[1]
    return out.permute(0, 3, 1, 2)
