"""Every weights file ``X`` (``.pt``, ``.onnx``, a training checkpoint) has ``X.json`` beside it: the network, the
training config, the backbone, the steps and the validation metrics it came with. Its folder's ``manifest.json``
lists the folder's weights files, each with its metadata file, size and SHA-256, so that a copied or re-trained file
that no longer matches its metadata shows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

KEYS = ("network", "config", "backbone", "steps", "metrics")
MANIFEST = "manifest.json"


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def write_sidecar(path: Path, meta: dict, **extra) -> Path:
    """Write ``path``'s metadata: the :data:`KEYS` ``meta`` has, then ``extra``; and list ``path`` in its folder's
    manifest. Returns the metadata file's path."""
    target = sidecar_path(path)
    data = {"file": path.name, **{key: meta[key] for key in KEYS if key in meta}, **extra}
    target.write_text(json.dumps(data, indent=2) + "\n")
    record_in_manifest(path)
    return target


def record_in_manifest(path: Path) -> None:
    """Add or update ``path``'s entry in ``manifest.json`` beside it: its metadata file, bytes and SHA-256."""
    manifest = path.parent / MANIFEST
    files = read_manifest(path.parent)
    files[path.name] = {"metadata": sidecar_path(path).name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
    partial = manifest.with_suffix(".partial")
    partial.write_text(json.dumps({"files": dict(sorted(files.items()))}, indent=2) + "\n")
    partial.replace(manifest)


def read_manifest(folder: Path) -> dict[str, dict]:
    """The entries of ``folder``'s manifest by file name; none if it has no manifest yet."""
    manifest = folder / MANIFEST
    return json.loads(manifest.read_text())["files"] if manifest.exists() else {}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_weights(weights_dir: Path) -> dict[str, str]:
    """What is wrong with each weights file the manifests under ``weights_dir`` list (one per sub-folder): missing,
    another size, or another SHA-256; by path relative to ``weights_dir``. Empty when everything matches."""
    problems = {}
    for manifest in sorted(Path(weights_dir).glob(f"*/{MANIFEST}")):
        for name, entry in read_manifest(manifest.parent).items():
            path = manifest.parent / name
            key = f"{manifest.parent.name}/{name}"
            if not path.is_file():
                problems[key] = "missing"
            elif path.stat().st_size != entry["bytes"]:
                problems[key] = f"{path.stat().st_size} bytes, the manifest says {entry['bytes']}"
            elif file_sha256(path) != entry["sha256"]:
                problems[key] = "its SHA-256 differs from the manifest's"
    return problems
