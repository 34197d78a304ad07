"""ONNX Runtime sessions, set up for a small CPU that a few worker processes share (timings on 2 cores)."""

from __future__ import annotations

from pathlib import Path

from .errors import MethodUnavailableError

_shared_arena = False


def onnx_session(path: Path, threads: int, missing: str):
    """A CPU session for ``path``; ``missing`` is the user-facing message when the file is not installed.

    Every session of the process allocates from one shared memory arena, so the arbitrary method's encoder and
    decoder reuse the same blocks instead of each keeping its own peak: a 2048² tiled render (which then also
    encoded a 1024 px thumbnail) peaked at 1,951 MiB with an arena per session. An arena is needed at all because
    without one every run pays for fresh allocations (the preset network at 1056²: 0.20 -> 0.39 s; the encoder: 0.39
    -> 0.80 s). The memory *pattern* is off: planning one buffer for the whole graph held 430 MiB at 1056² where
    reusing arena blocks holds 330 MiB, at the same speed. Idle threads do not spin: the arbitrary method alternates
    ONNX Runtime with numpy (feature statistics between encoder and decoder), and spinning threads took the cores
    from it (1024²: 1.00 -> 0.95 s, 2048²: 4.38 -> 3.86 s; the fast method is unchanged at 0.22 s).
    """
    import onnxruntime as ort

    global _shared_arena
    if not path.exists():
        raise MethodUnavailableError(missing)
    if not _shared_arena:
        memory = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
        ort.create_and_register_allocator(memory, ort.OrtArenaCfg({"arena_extend_strategy": 1}))  # kSameAsRequested
        _shared_arena = True
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    options.add_session_config_entry("session.use_env_allocators", "1")
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
