"""Training data: photo listing, a fixed validation split, and augmented random crops."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import torch
from PIL import Image

from .imageio import open_image, to_tensor

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def split_validation(paths: list[Path], n_val: int) -> tuple[list[Path], list[Path]]:
    """A split that depends only on file names, so it is the same on every machine and every run.

    Returns (train, val); the val list is the ``n_val`` names with the smallest sha1.
    """
    ranked = sorted(paths, key=lambda p: hashlib.sha1(p.name.encode()).hexdigest())
    val = sorted(ranked[:n_val])
    return sorted(ranked[n_val:]), val


class CropSampler:
    """Random augmented crops: random rescale of the shorter side in ``[size, size*max_zoom]``, crop, h-flip."""

    def __init__(self, paths: list[Path], size: int, seed: int, max_zoom: float = 1.6):
        self.paths, self.size, self.max_zoom = paths, size, max_zoom
        self.rng = random.Random(seed)
        self._cache: dict[Path, Image.Image] = {}

    def _load(self, path: Path) -> Image.Image:
        image = self._cache.get(path)
        if image is None:
            image = open_image(path)
            image.thumbnail((640, 640), Image.Resampling.LANCZOS)  # keeps RAM small; crops are far smaller
            self._cache[path] = image
        return image

    def crop(self, path: Path) -> torch.Tensor:
        image = self._load(path)
        short = self.rng.uniform(self.size, self.size * self.max_zoom)
        scale = short / min(image.size)
        w, h = max(self.size, round(image.width * scale)), max(self.size, round(image.height * scale))
        resized = image.resize((w, h), Image.Resampling.BILINEAR)
        x, y = self.rng.randint(0, w - self.size), self.rng.randint(0, h - self.size)
        patch = resized.crop((x, y, x + self.size, y + self.size))
        if self.rng.random() < 0.5:
            patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return to_tensor(patch)

    def batch(self, n: int) -> torch.Tensor:
        return torch.cat([self.crop(self.rng.choice(self.paths)) for _ in range(n)])
