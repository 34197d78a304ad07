"""Image arrays for the inference path, in numpy: float32 (1, 3, H, W) RGB in 0-1 (``imageio.to_array``).

The ONNX Runtime paths (fast presets, the arbitrary network) run on these alone and never import torch, which costs
~500 MiB of RSS on its own (CUDA builds). Torch paths convert at their boundary with
``torch.from_numpy``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Box = tuple[int, int, int, int]
_EPS = 1e-5
_RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)
_YIQ_TO_RGB = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]], np.float32)


def pad_for_network(image: np.ndarray, multiple: int, margin: int = 0) -> tuple[np.ndarray, Box]:
    """Reflection-pad (N, C, H, W) by ``margin`` on every side, then on the bottom/right up to a multiple of
    ``multiple``. Returns the padded array and the crop box (top, left, H, W) that recovers the original area.

    The margin gives the network real-looking context at the borders, where its zero-padded convs would otherwise
    darken the edges.
    """
    h, w = image.shape[-2:]
    margin = min(margin, h - 1, w - 1)
    pad_h, pad_w = (-(h + 2 * margin)) % multiple, (-(w + 2 * margin)) % multiple
    if margin or pad_h or pad_w:
        mode = "reflect" if margin + pad_h < h and margin + pad_w < w else "edge"
        image = np.pad(image, ((0, 0), (0, 0), (margin, margin + pad_h), (margin, margin + pad_w)), mode=mode)
    return np.ascontiguousarray(image), (margin, margin, h, w)


def crop_box(image: np.ndarray, box: Box) -> np.ndarray:
    top, left, h, w = box
    return image[:, :, top:top + h, left:left + w]


def rgb_to_yiq(image: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) RGB -> YIQ, Y being luminance."""
    return np.einsum("ij,njhw->nihw", _RGB_TO_YIQ, image)


def preserve_color(content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Luminance-only transfer (Gatys et al. 2017, sec. 5.1): the stylized Y with the content's I and Q.

    The stylized luminance is first matched to the content's luminance mean/std so the overall brightness holds.
    Both inputs (1, 3, H, W) in 0-1 with the same size; output in 0-1.
    """
    content_yiq = rgb_to_yiq(content)
    y_s = np.einsum("j,njhw->nhw", _RGB_TO_YIQ[0], stylized)[:, None]
    y_c = content_yiq[:, :1]
    y = (y_s - y_s.mean()) / np.sqrt(y_s.var() + _EPS) * np.sqrt(y_c.var() + _EPS) + y_c.mean()
    yiq = np.concatenate([y, content_yiq[:, 1:]], axis=1)
    return np.clip(np.einsum("ij,njhw->nihw", _YIQ_TO_RGB, yiq), 0.0, 1.0).astype(np.float32)


def apply_settings(content: np.ndarray, render: np.ndarray, *, strength: float, keep_colors: bool) -> np.ndarray:
    """The engine's last two steps on a full-strength render: the photo's colours kept (``keep_colors``), then a
    blend of ``strength`` toward the photo. Both (1, 3, H, W) in 0-1 with the same size; output in 0-1.

    Separate from the networks so a kept render can be re-dialed later without painting it again (the gallery's
    re-dial, whose browser preview does the same arithmetic in static/gallery/redial.js).
    """
    out = preserve_color(content, render) if keep_colors else render
    if strength < 1.0:
        out = strength * out + (1.0 - strength) * content
    return out


def match_colors(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``image`` with the mean and covariance of ``reference``'s RGB colours (Gatys et al. 2017, sec. 5.2: an affine
    map x -> A (x - mu_i) + mu_r with A = Sigma_r^1/2 Sigma_i^-1/2). Both (1, 3, H, W) in 0-1, sizes may differ."""
    pixels, ref = image.reshape(3, -1).astype(np.float64), reference.reshape(3, -1).astype(np.float64)

    def power(pix: np.ndarray, exponent: float) -> np.ndarray:
        values, vectors = np.linalg.eigh(np.cov(pix) + _EPS * np.eye(3))
        return vectors @ np.diag(np.clip(values, 1e-8, None) ** exponent) @ vectors.T

    a = power(ref, 0.5) @ power(pixels, -0.5)
    mean, ref_mean = pixels.mean(axis=1, keepdims=True), ref.mean(axis=1, keepdims=True)
    return np.clip(a @ (pixels - mean) + ref_mean, 0.0, 1.0).reshape(image.shape).astype(np.float32)


def _ramp(length: int, overlap: int) -> np.ndarray:
    """1 in the middle, linear ramps of ``overlap`` px at both ends (never exactly 0, so borders keep weight)."""
    weight = np.ones(length, np.float32)
    if overlap > 0:
        ramp = np.linspace(1.0 / (overlap + 1), 1.0, overlap, dtype=np.float32)
        weight[:overlap] = np.minimum(weight[:overlap], ramp)
        weight[-overlap:] = np.minimum(weight[-overlap:], ramp[::-1])
    return weight


def _spans(size: int, tile: int, overlap: int, multiple: int) -> tuple[list[int], int]:
    """The fewest tiles of at most ``tile`` px that cover ``size`` with ``overlap`` px shared, spread evenly.

    Returns (starts, length). Even spreading matters: 2080 px in 1024-px tiles with 64 px overlap is 3 tiles; even
    spreading makes them 736 px (2208 px of work) where 0, 960, 1056 would be 3 x 1024 (3072 px).
    """
    if size <= tile:
        return [0], size
    n = -(-(size - overlap) // (tile - overlap))
    needed = -(-(size + (n - 1) * overlap) // n)
    length = min(tile, -(-needed // multiple) * multiple)
    # Starts on the network's stride grid, so every tile samples the same pixels as the whole image would.
    return [multiple * round(i * (size - length) / (n - 1) / multiple) for i in range(n)], length


def _tile_boxes(image: np.ndarray, tile: int, overlap: int, multiple: int,
                owned: bool = False) -> list[Box]:
    """Each tile's box (top, left, h, w) in the image, or with ``owned`` the box within the tile that it alone owns."""
    h, w = image.shape[-2:]
    (rows, tile_h), (cols, tile_w) = _spans(h, tile, overlap, multiple), _spans(w, tile, overlap, multiple)
    if owned:
        return [(top, left, bottom - top, right - left) for top, bottom in _owned(rows, tile_h, h, multiple)
                for left, right in _owned(cols, tile_w, w, multiple)]
    return [(y, x, min(tile_h, h - y), min(tile_w, w - x)) for y in rows for x in cols]


def _patch(image: np.ndarray, box: Box, multiple: int) -> np.ndarray:
    y, x, ph, pw = box
    patch = image[:, :, y:y + ph, x:x + pw]
    if ph % multiple or pw % multiple:
        patch = np.pad(patch, ((0, 0), (0, 0), (0, -ph % multiple), (0, -pw % multiple)), mode="edge")
    return np.ascontiguousarray(patch)


def _owned(starts: list[int], length: int, size: int, multiple: int) -> list[tuple[int, int]]:
    """Per tile along one axis, the span (from, to) in its own coordinates that it owns: overlaps are split at their
    middle (on the ``multiple`` grid), so every pixel is owned once and away from a tile's inner edges."""
    ends = [min(start + length, size) for start in starts]
    cuts = [0] + [multiple * round((start + end) / 2 / multiple) for start, end in zip(starts[1:], ends)] + [size]
    return [(cuts[i] - start, cuts[i + 1] - start) for i, start in enumerate(starts)]


def tiles(image: np.ndarray, *, tile: int, overlap: int, multiple: int) -> list[tuple[np.ndarray, Box, Box]]:
    """The patches :func:`run_tiled` gives its ``net`` for these arguments, in the same order, each with its box
    (top, left, h, w) in the image and the box within it that it alone owns: the owned boxes cover the image once,
    away from the tiles' inner edges, where their padding shows. For renders in several passes that gather
    whole-image statistics from the tiles themselves and paste each tile's owned part."""
    boxes = _tile_boxes(image, tile, overlap, multiple)
    return [(_patch(image, box, multiple), box, core)
            for box, core in zip(boxes, _tile_boxes(image, tile, overlap, multiple, owned=True))]


def run_tiled(net: Callable[[np.ndarray], np.ndarray], image: np.ndarray, *, tile: int, overlap: int,
              multiple: int, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Apply ``net`` (RGB 0-1 -> RGB 0-1, same size) to (1, 3, H, W) tile by tile; weighted blend in the overlaps.

    ``tile`` and ``overlap`` must be multiples of ``multiple`` (the network's downsampling factor). Tiles only see
    their own pixels, so ``net`` must normalise with whole-image statistics (see tiling.py) for seams to vanish.
    """
    _, c, h, w = image.shape
    out = np.zeros((1, c, h, w), np.float32)
    total_weight = np.zeros((1, 1, h, w), np.float32)
    boxes = _tile_boxes(image, tile, overlap, multiple)
    for index, box in enumerate(boxes):
        y, x, ph, pw = box
        result = net(_patch(image, box, multiple))[:, :, :ph, :pw]
        weight = (_ramp(ph, min(overlap, ph // 2))[:, None] * _ramp(pw, min(overlap, pw // 2))[None, :])[None, None]
        out[:, :, y:y + ph, x:x + pw] += result * weight
        total_weight[:, :, y:y + ph, x:x + pw] += weight
        if progress:
            progress(index + 1, len(boxes))
    return out / total_weight
