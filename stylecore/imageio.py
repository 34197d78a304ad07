"""PIL <-> array/tensor conversion and image sanity checks. Both are (1, 3, H, W) RGB in 0-1.

numpy arrays serve the inference path, which runs without torch (see arrays.py); tensors serve training and the
torch paths, and import torch only when asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def prepare_photo(image: Image.Image, max_side: int) -> Image.Image:
    """The photo as the engine paints it: RGB, downscaled to at most ``max_side`` px on its longest side."""
    return fit_within(to_rgb(image), max_side)


def to_array(image: Image.Image) -> np.ndarray:
    """Any PIL image -> (1, 3, H, W) float32 RGB in 0-1."""
    return np.ascontiguousarray((np.asarray(to_rgb(image), dtype=np.float32) / 255.0).transpose(2, 0, 1)[None])


def from_array(array: np.ndarray) -> Image.Image:
    """(1, 3, H, W) in 0-1 (values outside are clipped) -> an RGB image."""
    pixels = np.clip(array[0].transpose(1, 2, 0), 0.0, 1.0) * 255.0
    return Image.fromarray(np.rint(pixels).astype(np.uint8), "RGB")


def to_tensor(image: Image.Image):
    """Any PIL image -> a (1, 3, H, W) torch tensor in 0-1."""
    import torch

    return torch.from_numpy(to_array(image))


def to_image(tensor) -> Image.Image:
    """A (1, 3, H, W) torch tensor in 0-1 -> an RGB image."""
    return from_array(tensor.detach().cpu().float().numpy())


def open_image(path: Path | str) -> Image.Image:
    """Open a file as RGB with EXIF orientation applied; unreadable files raise InvalidImageError."""
    try:
        with Image.open(path) as raw:
            raw.load()
            return to_rgb(ImageOps.exif_transpose(raw))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImageError(f"{Path(path).name} is not a readable image ({exc})") from exc
