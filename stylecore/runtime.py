"""ONNX Runtime sessions, set up the way measurements on this 2-core CPU said (docs/engine.md)."""

from __future__ import annotations

from pathlib import Path

from .errors import MethodUnavailableError


def onnx_session(path: Path, threads: int, missing: str, arena: bool = True):
    """A CPU session for ``path``; ``missing`` is the user-facing message when the file is not installed.

    The memory arena stays on for the per-image networks (without it every run pays for fresh allocations: 0.20 ->
    0.39 s at 1024²), but the memory *pattern* is off: planning one buffer for the whole graph held 430 MiB at 1024²
    where reusing arena blocks holds 330 MiB, at the same speed. ``arena=False`` suits graphs that run once per
    request on inputs of any size (the style encoder): their buffers are returned instead of kept at the peak.
    """
    import onnxruntime as ort

    if not path.exists():
        raise MethodUnavailableError(missing)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    options.enable_cpu_mem_arena = arena
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
