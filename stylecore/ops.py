"""Pure tensor functions for training and the torch paths. Shapes are (N, C, H, W) unless stated; images are RGB in
0-1. The inference path's numpy counterparts (padding, colour preservation, tiling) are in arrays.py."""

from __future__ import annotations

import torch

_EPS = 1e-5


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C), normalised by C*H*W so it does not grow with image size."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def mean_std(features: torch.Tensor, eps: float = _EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std: (N, C, H, W) -> two (N, C, 1, 1)."""
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    mean = flat.mean(dim=2).reshape(n, c, 1, 1)
    std = (flat.var(dim=2, unbiased=False) + eps).sqrt().reshape(n, c, 1, 1)
    return mean, std


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels; a scalar."""
    return (image[:, :, 1:, :] - image[:, :, :-1, :]).abs().mean() + (
        image[:, :, :, 1:] - image[:, :, :, :-1]
    ).abs().mean()
