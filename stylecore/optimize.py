"""Slow, high-quality mode: Gatys et al. 2016, optimising the pixels of the output image.

Coarse-to-fine (Gatys et al. 2017, sec. 4): optimise at a quarter, then half, then full size, each stage starting from
the upsampled result of the previous one. The cheap low-resolution stages settle the large-scale structure, so only a
few expensive full-size iterations are needed. The painting is resized with every stage (``OptimizeConfig.style_scale``
of the stage's long side), so all stages ask for strokes of the same relative size. L-BFGS, as in the paper.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .configs import OptimizeConfig
from .losses import perceptual_loss
from .ops import gram_matrix


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def _scaled(style: torch.Tensor, long_side: int) -> torch.Tensor:
    h, w = style.shape[-2:]
    return _resize(style, (max(16, round(h * long_side / max(h, w))), max(16, round(w * long_side / max(h, w)))))


def optimize(vgg, content: torch.Tensor, style: torch.Tensor, config: OptimizeConfig = OptimizeConfig(),
             progress: Callable[[int, int], None] | None = None, init: torch.Tensor | None = None) -> torch.Tensor:
    """content (1, 3, H, W), style (1, 3, h, w), both RGB 0-1 -> stylized (1, 3, H, W) in 0-1.

    ``init`` (1, 3, H, W), for example the photo in the painting's colours, is where the first stage starts (resized
    to it); without it the first stage starts from the photo. Deterministic for a given seed and thread count.
    ``progress(done, total)`` is called after every iteration.
    """
    torch.manual_seed(config.seed)
    loss_cfg = config.loss
    h, w = content.shape[-2:]
    n_stages = len(config.stage_iterations)
    total = sum(config.stage_iterations)
    done = 0
    image = None
    for stage, iterations in enumerate(config.stage_iterations):
        factor = 2 ** (n_stages - 1 - stage)
        size = (max(16, h // factor), max(16, w // factor))
        target = _resize(content, size) if factor > 1 else content
        with torch.no_grad():
            content_targets = vgg(target, loss_cfg.content_layers)
            style_features = vgg(_scaled(style, round(config.style_scale * max(size))), loss_cfg.style_layers)
            grams = {name: gram_matrix(f) for name, f in style_features.items()}
        if image is not None:
            start = _resize(image, size)
        elif init is not None:
            start = _resize(init, size) if factor > 1 else init
        else:
            start = target
        # Optimise an unconstrained variable and squash it into 0-1, so L-BFGS never leaves the valid range.
        logits = torch.logit(start.clamp(1e-3, 1 - 1e-3)).detach().requires_grad_(True)
        optimizer = torch.optim.LBFGS([logits], lr=1.0, max_iter=iterations, history_size=20,
                                      tolerance_grad=0.0, tolerance_change=0.0)
        evaluations = 0

        def closure():
            nonlocal evaluations, done
            optimizer.zero_grad()
            current = torch.sigmoid(logits)
            features = vgg(current, loss_cfg.layers)
            loss = perceptual_loss(features, content_targets, grams, current, loss_cfg)["total"]
            loss.backward()
            evaluations += 1
            if evaluations <= iterations:
                done += 1
                if progress:
                    progress(done, total)
            return loss

        optimizer.step(closure)
        image = torch.sigmoid(logits).detach()
    if progress and done < total:  # L-BFGS may converge early; the bar still ends at 100%
        progress(total, total)
    return image
