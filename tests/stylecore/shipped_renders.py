"""Reference renders of the shipped networks (weights/), for test_shipped_renders.py.

After shipping new or retrained weights on purpose, regenerate the references from the repository root with
``STYLECORE_CACHE=... .venv/bin/python -m tests.stylecore.shipped_renders`` and commit ``shipped_renders.npz``.
``--only arbitrary`` (or ``--only fast``) regenerates one method's references and keeps the others' bit for bit:
a new any-style release must not move the presets' references, nor a preset retraining the any-style ones.
"""

import argparse
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
    """The fast method's two runtimes share one reference (they agree to 1/255); the arbitrary method keeps one per
    runtime."""
    return f"{key}/{runtime}" if key == "arbitrary" else key


def method(key: str) -> str:
    """"fast/<preset>" -> "fast"; "arbitrary" -> "arbitrary"."""
    return key.split("/")[0]


def write_references(only: str | None = None) -> Path:
    """Render every reference, or only those of the method ``only`` ("fast" or "arbitrary"), keeping the others."""
    kept = {}
    if only is not None and REFERENCES.exists():
        with np.load(REFERENCES) as old:
            kept = {name: old[name] for name in old.files if method(name) != only}
    renders = {reference_name(runtime, key): render(runtime, key) for runtime in RUNTIMES for key in keys()
               if (runtime == "onnx" or key == "arbitrary") and only in (None, method(key))}
    np.savez_compressed(REFERENCES, **{**kept, **renders})
    return REFERENCES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.stylecore.shipped_renders", description=__doc__)
    parser.add_argument("--only", choices=["fast", "arbitrary"], help="regenerate this method's references only")
    print(write_references(parser.parse_args(argv).only))


if __name__ == "__main__":
    main()
