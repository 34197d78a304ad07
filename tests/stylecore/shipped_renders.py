"""Reference renders of the shipped networks (weights/), for test_shipped_renders.py.

After shipping new or retrained weights on purpose, regenerate the references from the repository root with
``STYLECORE_CACHE=... .venv/bin/python -m tests.stylecore.shipped_renders`` and commit ``shipped_renders.npz``.
"""

from pathlib import Path

import numpy as np

from stylecore import Engine, EngineConfig

from .synthetic import REPO, draw_photo

WEIGHTS = REPO / "weights"
REFERENCES = Path(__file__).with_name("shipped_renders.npz")
STYLE_PRESET = "great_wave"  # its painting is the style of the arbitrary method's renders
RUNTIMES = ("onnx", "torch")


def photo():
    """A 160 x 120 synthetic photo (no real photo may be committed)."""
    return draw_photo((160, 120), seed=11)


def render(runtime: str, key: str) -> np.ndarray:
    """``key`` "fast/<preset>" or "arbitrary" -> the uint8 (120, 160, 3) render on ``runtime``."""
    engine = Engine(WEIGHTS, EngineConfig(threads=1, runtime=runtime))
    if key == "arbitrary":
        out = engine.stylize(photo(), preset=STYLE_PRESET, method="arbitrary")
    else:
        out = engine.stylize(photo(), preset=key.removeprefix("fast/"), method="fast")
    return np.asarray(out)


def keys() -> list[str]:
    """Every shipped preset's fast method, then the arbitrary method."""
    return [f"fast/{p.name}" for p in Engine(WEIGHTS).presets()] + ["arbitrary"]


def reference_name(runtime: str, key: str) -> str:
    """The fast method's two runtimes share one reference (they agree to 1/255); the arbitrary method's do not (ONNX
    Runtime runs the int8 encoder, PyTorch the float one)."""
    return f"{key}/{runtime}" if key == "arbitrary" else key


def write_references() -> Path:
    renders = {reference_name(runtime, key): render(runtime, key) for runtime in RUNTIMES for key in keys()
               if runtime == "onnx" or key == "arbitrary"}
    np.savez_compressed(REFERENCES, **renders)
    return REFERENCES


if __name__ == "__main__":
    print(write_references())
