"""Preset styles on disk: ``<weights>/presets/<name>.{pt,json,onnx,jpg,style.jpg}``.

``<name>.pt`` is a single-style TransformerNet state dict, ``<name>.json`` the preset (attribution, training
config, steps, wall time, validation metrics), ``<name>.jpg`` a preview, ``<name>.style.jpg`` the painting itself
and ``<name>.onnx`` the exported network for ONNX Runtime. ``<name>.pt.json`` and ``<name>.onnx.json`` are each
weights file's own metadata (sidecars.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import CheckpointError, UnknownPresetError
from .sidecars import MANIFEST


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    artist: str
    year: str
    source: str
    preview_path: Path
    style_path: Path
    weights_path: Path
    onnx_path: Path
    metadata: dict


def read_presets(weights_dir: Path) -> dict[str, Preset]:
    """Every preset whose metadata file exists, by name. Malformed metadata raises CheckpointError."""
    folder = weights_dir / "presets"
    presets = {}
    for meta_path in sorted(folder.glob("*.json")):
        name = meta_path.stem
        if "." in name or meta_path.name == MANIFEST:  # <name>.pt.json etc. and the manifest describe weights files
            continue
        try:
            meta = json.loads(meta_path.read_text())
            presets[name] = Preset(
                name=name, title=meta["title"], artist=meta["artist"], year=meta["year"], source=meta["source"],
                preview_path=folder / f"{name}.jpg", style_path=folder / f"{name}.style.jpg",
                weights_path=folder / f"{name}.pt", onnx_path=folder / f"{name}.onnx", metadata=meta,
            )
        except (ValueError, KeyError) as exc:
            raise CheckpointError(f"preset metadata {meta_path} is malformed ({exc})") from exc
    return presets


def get_preset(presets: dict[str, Preset], name: str) -> Preset:
    try:
        return presets[name]
    except KeyError:
        known = ", ".join(sorted(presets)) or "none installed"
        raise UnknownPresetError(f"unknown preset {name!r} (available: {known})") from None


def load_transformer(path: Path, config: dict):
    """A single-style TransformerNet from ``path``; any mismatch or corruption raises CheckpointError."""
    import torch  # here, not at the top: listing presets and the ONNX path run without torch

    from .networks import TransformerConfig, TransformerNet

    if not path.exists():
        raise CheckpointError(f"the network for the {path.stem!r} style is not installed on this server ({path.name})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"the network file {path.name} is corrupt ({exc})") from exc
    net = TransformerNet(TransformerConfig(**{**config, "n_styles": 1}))
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"the network file {path.name} does not fit this version of the engine ({exc})") from exc
    return net.eval().requires_grad_(False)
