"""Large images in overlapping tiles with feathered seams, and *thumbnail* instance norm (Chen et al., URST, AAAI
2022): the instance-norm statistics come from a downscaled copy of the whole image, so every tile is normalised the
same way. Per-tile statistics are what makes tiled style transfer drift in colour and show seams.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from .networks.transformer import CondInstanceNorm


@contextmanager
def frozen_norm_stats(net: torch.nn.Module, thumbnail: torch.Tensor):
    """Within the block, every CondInstanceNorm of ``net`` normalises with the statistics it saw on ``thumbnail``."""
    norms = [m for m in net.modules() if isinstance(m, CondInstanceNorm)]
    for norm in norms:
        norm.stats_mode = "record"
    with torch.no_grad():
        net(thumbnail)
    for norm in norms:
        norm.stats_mode = "frozen"
    try:
        yield
    finally:
        for norm in norms:
            norm.stats_mode = None
            norm.recorded = None


def _ramp(length: int, overlap: int) -> torch.Tensor:
    """1 in the middle, linear ramps of ``overlap`` px at both ends (never exactly 0, so borders keep weight)."""
    weight = torch.ones(length)
    if overlap > 0:
        ramp = torch.linspace(1.0 / (overlap + 1), 1.0, overlap)
        weight[:overlap] = torch.minimum(weight[:overlap], ramp)
        weight[-overlap:] = torch.minimum(weight[-overlap:], ramp.flip(0))
    return weight


def _starts(size: int, tile: int, step: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, step))
    return starts + [size - tile]


def run_tiled(net: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor, *, tile: int, overlap: int,
              multiple: int, progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Apply ``net`` (RGB 0-1 -> RGB 0-1, same size) to (1, 3, H, W) tile by tile; weighted blend in the overlaps.

    ``tile`` and ``overlap`` must be multiples of ``multiple`` (the network's downsampling factor).
    """
    _, c, h, w = image.shape
    out = torch.zeros(1, c, h, w)
    total_weight = torch.zeros(1, 1, h, w)
    step = tile - overlap
    boxes = [(y, x) for y in _starts(h, tile, step) for x in _starts(w, tile, step)]
    for index, (y, x) in enumerate(boxes):
        patch = image[:, :, y:y + tile, x:x + tile]
        ph, pw = patch.shape[-2:]
        pad_h, pad_w = (-ph) % multiple, (-pw) % multiple
        padded = F.pad(patch, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else patch
        with torch.no_grad():
            result = net(padded)[:, :, :ph, :pw]
        weight = (_ramp(ph, min(overlap, ph // 2))[:, None] * _ramp(pw, min(overlap, pw // 2))[None, :])[None, None]
        out[:, :, y:y + ph, x:x + pw] += result * weight
        total_weight[:, :, y:y + ph, x:x + pw] += weight
        if progress:
            progress(index + 1, len(boxes))
    return out / total_weight
