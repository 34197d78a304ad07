"""Every weights file ``X`` (``.pt``, ``.onnx``, a training checkpoint) has ``X.json`` beside it: the network, the
training config, the backbone, the steps and the validation metrics it came with."""

from __future__ import annotations

import json
from pathlib import Path

KEYS = ("network", "config", "backbone", "steps", "metrics")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def write_sidecar(path: Path, meta: dict, **extra) -> Path:
    """Write ``path``'s metadata: the :data:`KEYS` ``meta`` has, then ``extra``. Returns the metadata file's path."""
    target = sidecar_path(path)
    data = {"file": path.name, **{key: meta[key] for key in KEYS if key in meta}, **extra}
    target.write_text(json.dumps(data, indent=2) + "\n")
    return target
