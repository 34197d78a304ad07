import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import stylecore

from .synthetic import REPO

FORBIDDEN = {"django", "rq", "redis", "gallery", "config"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_it_keeps_stylecore_free_of_the_site():
    modules = sorted(Path(stylecore.__file__).parent.rglob("*.py"))
    assert len(modules) > 10
    offenders = {str(p): sorted(_imported_roots(p) & FORBIDDEN) for p in modules if _imported_roots(p) & FORBIDDEN}
    assert offenders == {}


def test_it_detects_a_forbidden_import(tmp_path):
    module = tmp_path / "leaky.py"
    module.write_text("import os\nfrom django.conf import settings\nimport rq.job\n")
    assert _imported_roots(module) & FORBIDDEN == {"django", "rq"}


def test_it_runs_the_onnx_paths_without_importing_torch(tiny_arbitrary_weights):
    """torch alone is ~500 MiB of RSS; the fast and arbitrary methods on ONNX Runtime must not pay for it."""
    script = textwrap.dedent(f"""
        import sys
        from PIL import Image
        from stylecore import Engine, EngineConfig
        engine = Engine({str(tiny_arbitrary_weights)!r}, EngineConfig(threads=1))
        photo = Image.effect_mandelbrot((64, 48), (-2, -1.2, 1, 1.2), 60).convert("RGB")
        painting = Image.radial_gradient("L").convert("RGB").resize((64, 64))
        fast = engine.stylize(photo, preset="starry_night", preserve_color=True, strength=0.5)
        mixed = engine.stylize(photo, style=[painting, photo], style_weights=[1, 2], method="arbitrary")
        tiled = Engine({str(tiny_arbitrary_weights)!r}, EngineConfig(threads=1, arbitrary_tile_above=32 * 32,
                       arbitrary_tile=64, arbitrary_tile_overlap=32)).stylize(photo, style=painting, method="arbitrary")
        assert fast.size == mixed.size == tiled.size == (64, 48)
        print("torch" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
