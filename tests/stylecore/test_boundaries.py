import ast
from pathlib import Path

import stylecore

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
