"""Perceptual losses on a frozen VGG (Gatys et al. 2016; Johnson et al. 2016).

Each term is *relative*: a squared error divided by the target's squared magnitude. That keeps the weights in the
same range for any backbone and input convention (Caffe 0-255 features are ~60x larger than ImageNet-normalised ones),
so one weight setting transfers between backbones and input conventions.
"""

from __future__ import annotations

import torch

from .configs import LossConfig
from .ops import gram_matrix, mean_std, total_variation


def relative_mse(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample ||value - target||^2 / ||target||^2, averaged over the batch. Shapes match, first dim N."""
    n = value.shape[0]
    err = (value - target).reshape(n, -1).pow(2).sum(1)
    norm = target.reshape(n, -1).pow(2).sum(1).clamp_min(1e-8)
    return (err / norm).mean()


def content_loss(features: dict, targets: dict, layers: tuple[str, ...]) -> torch.Tensor:
    return sum(relative_mse(features[name], targets[name]) for name in layers) / len(layers)


def style_gram_loss(features: dict, target_grams: dict, layers: tuple[str, ...]) -> torch.Tensor:
    """target_grams[name]: (N, C, C), already expanded to the batch."""
    return sum(relative_mse(gram_matrix(features[name]), target_grams[name]) for name in layers) / len(layers)


def style_moment_loss(features: dict, style_features: dict, layers: tuple[str, ...]) -> torch.Tensor:
    """Mean/std style loss (Huang & Belongie 2017, eq. 11), normalised like the others."""
    total = 0.0
    for name in layers:
        mean, std = mean_std(features[name])
        t_mean, t_std = mean_std(style_features[name])
        total = total + relative_mse(mean, t_mean) + relative_mse(std, t_std)
    return total / len(layers)


def perceptual_loss(features: dict, content_targets: dict, target_grams: dict, image: torch.Tensor,
                    config: LossConfig) -> dict[str, torch.Tensor]:
    """The weighted terms and their sum under "total". ``image`` (N, 3, H, W) 0-1 feeds total variation."""
    c = content_loss(features, content_targets, config.content_layers)
    s = style_gram_loss(features, target_grams, config.style_layers)
    tv = total_variation(image)
    total = config.content_weight * c + config.style_weight * s + config.tv_weight * tv
    return {"total": total, "content": c.detach(), "style": s.detach(), "tv": tv.detach()}
