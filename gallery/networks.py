"""The networks and paintings a browser downloads to paint on the visitor's own device: the fast presets' ONNX
networks, the any-style network's four ONNX graphs, and the presets' paintings that the any-style network encodes.

Read straight from the weights folder (the same files the workers run), so the web process needs no engine.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from gallery.models import Preset

# Chromium encodes a canvas as an RGBA PNG: measured at 3.44 bytes a pixel on random noise (the worst case; a
# painting at 2.6, a 3495 x 4096 one 37.8 MB), so a picture painted on the device is sure to fit the upload limit up
# to UPLOAD_MAX_BYTES / this many pixels.
_DEVICE_PNG_BYTES_PER_PIXEL = 3.5
# stylecore.arbitrary.GRAPHS, by the names the page gives them: painting -> code, photo -> features, modulate, decode.
ARBITRARY_GRAPHS = ("style", "encoder", "modulate", "decoder")


def _file(path: Path) -> Path | None:
    return path if path.is_file() else None


def network_path(name: str) -> Path | None:
    """The preset's ONNX network, or None when this installation has none for it."""
    return _file(Path(settings.STYLECORE_WEIGHTS) / "presets" / f"{name}.onnx")


def painting_path(name: str) -> Path | None:
    """The preset's painting, as the any-style network is given it (stylecore.presets: ``<name>.style.jpg``)."""
    return _file(Path(settings.STYLECORE_WEIGHTS) / "presets" / f"{name}.style.jpg")


def arbitrary_graph_path(graph: str) -> Path | None:
    """One of the any-style network's ONNX graphs (ARBITRARY_GRAPHS), or None when it is not installed."""
    if graph not in ARBITRARY_GRAPHS:
        return None
    return _file(Path(settings.STYLECORE_WEIGHTS) / "arbitrary" / f"{graph}.onnx")


def arbitrary_on_device() -> bool:
    """Whether every graph of the any-style network is installed, so a browser can paint any style."""
    return all(arbitrary_graph_path(graph) for graph in ARBITRARY_GRAPHS)


def device_max_pixels() -> int:
    """The largest picture (in pixels) that a browser paints and uploads through the upload checks' byte limit."""
    return int(settings.UPLOAD_MAX_BYTES / _DEVICE_PNG_BYTES_PER_PIXEL)


def _active_presets_with(path_of) -> set[str]:
    return {name for name in Preset.objects.filter(is_active=True).values_list("name", flat=True) if path_of(name)}


def device_presets() -> set[str]:
    """Names of the active presets a browser can paint with the fast method."""
    return _active_presets_with(network_path)


def device_paintings() -> set[str]:
    """Names of the active presets whose painting a browser can paint with the any-style network."""
    return _active_presets_with(painting_path)


def file_sha256(path: Path) -> str:
    stat = path.stat()
    return _sha256(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _sha256(path: Path, mtime_ns: int, size: int) -> str:
    # Keyed by mtime and size too: a re-exported network gets a new hash without restarting the site.
    return hashlib.sha256(path.read_bytes()).hexdigest()
