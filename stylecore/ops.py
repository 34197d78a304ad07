"""Pure tensor functions. Shapes are (N, C, H, W) unless stated; images are RGB in 0-1."""

from __future__ import annotations

import torch
import torch.nn.functional as F

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


def adain(content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor) -> torch.Tensor:
    """Adaptive instance normalisation (Huang & Belongie 2017, eq. 8).

    content: (N, C, H, W); style_mean, style_std: (N, C, 1, 1). Output has the style's per-channel mean and std.
    """
    mean, std = mean_std(content)
    return (content - mean) / std * style_std + style_mean


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB -> YIQ, Y being luminance."""
    matrix = image.new_tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    return torch.einsum("ij,njhw->nihw", matrix, image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yiq`."""
    matrix = image.new_tensor([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]])
    return torch.einsum("ij,njhw->nihw", matrix, image)


def preserve_color(content: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
    """Luminance-only transfer (Gatys et al. 2017, sec. 5.1): the stylized Y with the content's I and Q.

    The stylized luminance is first matched to the content's luminance mean/std so the overall brightness holds.
    Both inputs (N, 3, H, W) in 0-1 with the same size; output in 0-1.
    """
    content_yiq, stylized_yiq = rgb_to_yiq(content), rgb_to_yiq(stylized)
    y_s = stylized_yiq[:, :1]
    c_mean, c_std = mean_std(content_yiq[:, :1])
    s_mean, s_std = mean_std(y_s)
    y = (y_s - s_mean) / s_std * c_std + c_mean
    return yiq_to_rgb(torch.cat([y, content_yiq[:, 1:]], dim=1)).clamp(0.0, 1.0)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels; a scalar."""
    return (image[:, :, 1:, :] - image[:, :, :-1, :]).abs().mean() + (
        image[:, :, :, 1:] - image[:, :, :, :-1]
    ).abs().mean()


def pad_for_network(image: torch.Tensor, multiple: int, margin: int = 0) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Reflection-pad (N, C, H, W) by ``margin`` on every side, then on the bottom/right up to a multiple of
    ``multiple``. Returns the padded tensor and the crop box (top, left, H, W) that recovers the original area.

    The margin gives the network real-looking context at the borders, where its zero-padded convs would otherwise
    darken the edges.
    """
    h, w = image.shape[-2:]
    margin = min(margin, h - 1, w - 1)
    pad_h, pad_w = (-(h + 2 * margin)) % multiple, (-(w + 2 * margin)) % multiple
    if margin or pad_h or pad_w:
        mode = "reflect" if margin + pad_h < h and margin + pad_w < w else "replicate"
        image = F.pad(image, (margin, margin + pad_w, margin, margin + pad_h), mode=mode)
    return image, (margin, margin, h, w)


def crop_box(image: torch.Tensor, box: tuple[int, int, int, int]) -> torch.Tensor:
    top, left, h, w = box
    return image[:, :, top:top + h, left:left + w]
