"""Training checkpoints: atomic saves with a readable metadata file beside them, and loading them back."""

from __future__ import annotations

from pathlib import Path

import torch

from .errors import CheckpointError
from .sidecars import write_sidecar


def save_checkpoint(path: Path, state: dict) -> None:
    """Save atomically, with a readable ``<name>.pt.json`` beside it: config, backbone, steps, latest losses."""
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    partial.replace(path)  # atomic: a kill mid-save never leaves a truncated checkpoint
    write_sidecar(path, {"config": state["config"], "backbone": state["config"]["backbone"], "steps": state["step"],
                         "metrics": {"latest_losses": state["history"][-1] if state["history"] else None}},
                  wall_seconds=round(state["wall_seconds"], 1))


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read ({exc})") from exc


def random_state(value):
    """A ``random.Random`` state saved in a checkpoint (lists after torch.save) -> the tuples ``setstate`` wants."""
    return tuple(random_state(v) for v in value) if isinstance(value, list) else value
