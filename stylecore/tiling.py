"""*Thumbnail* instance norm for tiles (Chen et al., URST, AAAI 2022): the instance-norm statistics come from a
downscaled copy of the whole image, so every tile is normalised the same way. Per-tile statistics are what makes
tiled style transfer drift in colour and show seams. The tiles themselves are cut and feathered by
``arrays.run_tiled``.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

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
