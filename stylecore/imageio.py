"""PIL <-> tensor conversion and image sanity checks. Tensors are (1, 3, H, W) RGB in 0-1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from .errors import InvalidImageError

MIN_SIDE = 16


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparency is flattened onto white, 16-bit and CMYK are converted."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if array.max() > 255 else 255.0
        return Image.fromarray((array / peak * 255.0).clip(0, 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def check_image(image: Image.Image, what: str = "image") -> None:
    if not isinstance(image, Image.Image):
        raise InvalidImageError(f"the {what} is not an image")
    if min(image.size) < MIN_SIDE:
        raise InvalidImageError(f"the {what} is {image.width}x{image.height}; it must be at least {MIN_SIDE} px a side")


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """Downscale (never upscale) so the longest side is at most ``max_side``."""
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def to_tensor(image: Image.Image) -> torch.Tensor:
    array = np.asarray(to_rgb(image), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def to_image(tensor: torch.Tensor) -> Image.Image:
    array = tensor.detach().squeeze(0).clamp(0, 1).permute(1, 2, 0).mul(255.0).round().byte().cpu().numpy()
    return Image.fromarray(array, "RGB")


def open_image(path: Path) -> Image.Image:
    """Open a file as RGB with EXIF orientation applied; unreadable files raise InvalidImageError."""
    try:
        with Image.open(path) as raw:
            raw.load()
            return to_rgb(ImageOps.exif_transpose(raw))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImageError(f"{path.name} is not a readable image ({exc})") from exc
