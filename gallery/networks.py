"""The fast presets' ONNX networks, as files the browser downloads to paint on the visitor's own device.

Read straight from the weights folder (the same files the workers run), so the web process needs no engine.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from gallery.models import Preset


def network_path(name: str) -> Path | None:
    """The preset's ONNX network, or None when this installation has none for it."""
    path = Path(settings.STYLECORE_WEIGHTS) / "presets" / f"{name}.onnx"
    return path if path.is_file() else None


def device_presets() -> set[str]:
    """Names of the active presets a browser can paint with."""
    return {name for name in Preset.objects.filter(is_active=True).values_list("name", flat=True) if network_path(name)}


def network_sha256(path: Path) -> str:
    stat = path.stat()
    return _sha256(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _sha256(path: Path, mtime_ns: int, size: int) -> str:
    # Keyed by mtime and size too: a re-exported network gets a new hash without restarting the site.
    return hashlib.sha256(path.read_bytes()).hexdigest()
