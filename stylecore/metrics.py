"""Quality diagnostics of a result on VGG16 features: style and content distances, used by training's validation,
releases and the benchmarks. Lower is closer; the two pull against each other. They are diagnostics: which result
looks better is judged blind by people, not by these numbers.

All distances are relative squared errors ||value - target||² / ||target||², as the losses (losses.py).
"""

from __future__ import annotations

import torch

from .ops import gram_matrix, mean_std

STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
CONTENT_LAYERS = ("relu2_2", "relu3_3")


def per_sample_relative(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N, ...) pairs -> (N,) of ||value - target||² / ||target||²."""
    n = value.shape[0]
    return (value - target).reshape(n, -1).pow(2).sum(1) / target.reshape(n, -1).pow(2).sum(1).clamp_min(1e-8)


def style_distances(vgg, output: torch.Tensor, style: torch.Tensor, content: torch.Tensor,
                    layers: tuple[str, ...] = STYLE_LAYERS,
                    content_layers: tuple[str, ...] = CONTENT_LAYERS) -> dict[str, float]:
    """One result, all images (1, 3, H, W) 0-1: Gram and mean/std distance to the painting ``style`` at ``layers``,
    and content distance to the photo ``content`` at ``content_layers``."""
    with torch.no_grad():
        f_out = vgg(output, tuple(dict.fromkeys(layers + content_layers)))
        f_style = vgg(style, layers)
        f_content = vgg(content, content_layers)
        gram = sum(per_sample_relative(gram_matrix(f_out[n]), gram_matrix(f_style[n])).item() for n in layers)
        moments = 0.0
        for name in layers:
            (m, s), (tm, ts) = mean_std(f_out[name]), mean_std(f_style[name])
            moments += per_sample_relative(m, tm).item() + per_sample_relative(s, ts).item()
        content_d = sum(per_sample_relative(f_out[n], f_content[n]).item() for n in content_layers)
    return {"gram": gram / len(layers), "mean_std": moments / len(layers), "content": content_d / len(content_layers)}


def gram_and_content_distance(vgg, output: torch.Tensor, photo: torch.Tensor, grams: dict[str, torch.Tensor],
                              style_layers: tuple[str, ...] = STYLE_LAYERS,
                              content_layers: tuple[str, ...] = CONTENT_LAYERS) -> tuple[float, float]:
    """Against precomputed style Gram matrices ``grams`` {layer: (1, C, C)}: the mean relative Gram error over
    ``style_layers`` and the mean relative feature error against ``photo`` over ``content_layers``; ``output`` and
    ``photo`` (1, 3, H, W) 0-1 at the same size."""
    with torch.no_grad():
        f_out = vgg(output, tuple(dict.fromkeys(style_layers + content_layers)))
        f_in = vgg(photo, content_layers)
        style = sum(per_sample_relative(gram_matrix(f_out[n]), grams[n]).item() for n in style_layers)
        content = sum(per_sample_relative(f_out[n], f_in[n]).item() for n in content_layers)
    return style / len(style_layers), content / len(content_layers)
