"""Import boundaries inside gallery/ (issue 24): no import loops, stylecore's public API only, one views package."""

import ast
from pathlib import Path

GALLERY = Path(__file__).resolve().parents[2] / "gallery"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _gallery_modules() -> dict[str, set[str]]:
    return {
        ".".join(path.relative_to(GALLERY.parent).with_suffix("").parts): _imports(path)
        for path in GALLERY.rglob("*.py")
        if "migrations" not in path.parts
    }


def test_it_has_no_import_loop_between_modules():
    modules = _gallery_modules()
    graph = {name: {other for other in modules if other != name and other in imports} for name, imports in modules.items()}
    loops = []

    def visit(name, trail):
        for other in graph[name]:
            if other in trail:
                loops.append(trail[trail.index(other):] + [other])
            elif len(trail) < len(graph):
                visit(other, trail + [other])

    for name in graph:
        visit(name, [name])
    assert loops == []


def test_it_uses_stylecore_through_its_public_api_only():
    import stylecore

    internal = {
        name: sorted(i for i in imports if i.startswith("stylecore.") and i.split(".")[1] not in stylecore.__all__)
        for name, imports in _gallery_modules().items()
    }
    assert {name: found for name, found in internal.items() if found} == {}
    assert [name for name, imports in _gallery_modules().items() if "stylecore" in imports] == ["gallery.jobs"]


def test_it_keeps_views_in_one_package_whose_modules_share_helpers_not_each_other():
    assert not list(GALLERY.glob("views*.py"))
    views = {name: imports for name, imports in _gallery_modules().items() if name.startswith("gallery.views.")}
    siblings = {
        name: sorted(i for i in imports if len(i.split(".")) == 3 and i.startswith("gallery.views.")
                     and i != "gallery.views.helpers")
        for name, imports in views.items()
    }
    assert {name: found for name, found in siblings.items() if found} == {}


def test_it_wraps_no_view_in_the_url_configuration():
    # Decorators belong on the view, where a reader of the view sees them (quota, blocklist and rate limits).
    tree = ast.parse((GALLERY / "urls.py").read_text())
    wrapped = [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Call)
               and isinstance(node.func, ast.Call)]
    assert wrapped == []
