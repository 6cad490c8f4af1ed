"""The operations layer: one function per command, typed request in, typed result out.

See `_base.py` for the shared request and the result protocol. The CLI (`cli/`) only parses
options, calls one operation and emits its result; a web page or a Dask worker calls the same
functions (e.g. `from intensity.ops.analysis import run_analyze`).
"""
from intensity.ops._base import GIVEN, ModelRequest, OpResult, Result, Settings, TimingOptions, resolve_spec

__all__ = ["GIVEN", "ModelRequest", "OpResult", "Result", "Settings", "TimingOptions", "resolve_spec"]
