"""Block-fusion kernels (seed 001 5): a pure-PyTorch reference, Triton kernels, and `fuse(model)`.

Triton is imported lazily; without it (or on CPU) `fuse` uses the chunked PyTorch reference.
"""
from intensity.kernels.fuse import FusedConvFirst, FusedMBConv, FuseReport, fuse
from intensity.kernels.reference import convfirst_fused, ffn_chunked, mbconv_fused

__all__ = ["FuseReport", "FusedConvFirst", "FusedMBConv", "convfirst_fused", "ffn_chunked", "fuse",
           "mbconv_fused"]
