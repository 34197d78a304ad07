"""Running the arbitrary-style network: style codes, blending, ONNX Runtime or PyTorch, tiling for huge images.

Files in ``<weights>/arbitrary/``: ``arbitrary.pt`` (state dict), ``arbitrary.pt.json`` (config, training record,
validation metrics), ``encoder.onnx`` (image -> per-channel mean, std of its features), ``stylizer.onnx`` (photo,
style mean, std, strength -> image) and ``stylizer_tiled.onnx`` (the same, normalising the photo's features with
given statistics: those of a thumbnail of the whole image, so that tiles match). The ONNX path needs no torch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .arrays import crop_box, pad_for_network, run_tiled
from .errors import CheckpointError, InvalidImageError, InvalidOptionError, MethodUnavailableError
from .imageio import check_image, fit_within, from_array, to_array, to_rgb
from .runtime import onnx_session
from .sidecars import sidecar_path

MAX_STYLES = 4
MIN_STYLE_SCALE, MAX_STYLE_SCALE = 64, 2048
_MARGIN = 16
_MULTIPLE = 4  # the encoder downsamples by 4
_FLAT_STYLE_STD = 0.01  # pixel std (0-1) below which a style image has nothing to transfer


def load_arbitrary_net(folder: Path):
    """The PyTorch network and its metadata (for runtime="torch", export and evaluation)."""
    import torch

    from .networks.arbitrary import ArbitraryConfig, ArbitraryStyleNet

    meta = read_metadata(folder)
    if not (folder / "arbitrary.pt").exists():
        raise MethodUnavailableError(_NOT_INSTALLED)
    try:
        net = ArbitraryStyleNet(ArbitraryConfig(**meta["network"]))
        net.load_state_dict(torch.load(folder / "arbitrary.pt", map_location="cpu", weights_only=True))
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"the any-style network cannot be loaded ({exc})") from exc
    return net.eval().requires_grad_(False), meta


_NOT_INSTALLED = ("the arbitrary-style network is not installed (weights/arbitrary/); use a preset or the "
                  "high-quality (optimize) method")


def read_metadata(folder: Path) -> dict:
    try:
        return json.loads(sidecar_path(folder / "arbitrary.pt").read_text())
    except FileNotFoundError:
        raise MethodUnavailableError(_NOT_INSTALLED) from None
    except ValueError as exc:
        raise CheckpointError(f"the any-style network's metadata is malformed ({exc})") from exc


class ArbitraryStylizer:
    """Loaded once per Engine. ``stylize`` takes (1, 3, H, W) 0-1 arrays and returns the same shape."""

    def __init__(self, folder: Path, config):
        self.folder = folder
        self.config = config
        self.metadata = read_metadata(folder)
        self._net = None
        self._sessions: dict[str, object] = {}

    @property
    def net(self):
        """The PyTorch network, loaded on first use (the ONNX path never needs it)."""
        if self._net is None:
            import torch

            torch.set_num_threads(self.config.threads)
            self._net = load_arbitrary_net(self.folder)[0]
        return self._net

    def _session(self, name: str):
        if name not in self._sessions:
            self._sessions[name] = onnx_session(
                self.folder / name, self.config.threads,
                f"the optimised any-style network is not installed ({name}; run `python -m stylecore export`)")
        return self._sessions[name]

    def style_code(self, styles: Sequence[Image.Image], weights: Sequence[float] | None,
                   style_scale: int) -> tuple[np.ndarray, np.ndarray]:
        """Blend 1-4 style images into one (mean, std), each (1, C, 1, 1).

        Weights are normalised to sum to 1 (AdaIN sec. 7: a convex combination of the styles' statistics).
        """
        if not 1 <= len(styles) <= MAX_STYLES:
            raise InvalidOptionError(f"blend 1 to {MAX_STYLES} styles, not {len(styles)}")
        weights = [1.0] * len(styles) if weights is None else [float(w) for w in weights]
        if len(weights) != len(styles):
            raise InvalidOptionError(f"{len(styles)} styles but {len(weights)} weights")
        if any(w < 0 or not np.isfinite(w) for w in weights) or sum(weights) <= 0:
            raise InvalidOptionError("style weights must be non-negative numbers with a positive sum")
        if not MIN_STYLE_SCALE <= style_scale <= MAX_STYLE_SCALE:
            raise InvalidOptionError(f"style scale must be between {MIN_STYLE_SCALE} and {MAX_STYLE_SCALE} px")
        total = sum(weights)
        mean = std = 0.0
        for image, weight in zip(styles, weights):
            check_image(image, "style image")
            s = to_array(fit_within(to_rgb(image), style_scale))
            # Per channel: a flat red image has a large spread across channels but none within each one.
            if s.reshape(3, -1).std(axis=1).max() < _FLAT_STYLE_STD:
                raise InvalidImageError("the style image is a single flat colour; pick one with some texture")
            m, d = self._encode_style(s)
            mean, std = mean + weight / total * m, std + weight / total * d
        return mean.astype(np.float32), std.astype(np.float32)

    def _encode_style(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(1, 3, h, w) -> the per-channel mean and std of its encoder features, each (1, C, 1, 1)."""
        if self.config.runtime == "onnx":
            mean, std = self._session("encoder.onnx").run(None, {"style": image})
            return mean, std
        import torch

        with torch.no_grad():
            mean, std = self.net.style_code(torch.from_numpy(image))
        return mean.numpy(), std.numpy()

    def stylize(self, x: np.ndarray, styles: Sequence[Image.Image], weights: Sequence[float] | None, *,
                strength: float, style_scale: int, progress: Callable[[int, int], None] | None) -> np.ndarray:
        mean, std = self.style_code(styles, weights, style_scale)
        alpha = np.full((1, 1, 1, 1), strength, np.float32)
        h, w = x.shape[-2:]
        padded, box = pad_for_network(x, _MULTIPLE, _MARGIN)
        if h * w > self.config.arbitrary_tile_above:
            thumbnail = to_array(fit_within(from_array(x), self.config.tile))
            stats = self._encode_style(pad_for_network(thumbnail, _MULTIPLE, _MARGIN)[0])  # the photo's, as a style's
            out = run_tiled(lambda tile: self._run(tile, mean, std, alpha, stats), padded, tile=self.config.tile,
                            overlap=self.config.tile_overlap, multiple=_MULTIPLE, progress=progress)
        else:
            out = self._run(padded, mean, std, alpha, None)
        if progress:
            progress(1, 1)
        return crop_box(out, box)

    def _run(self, image: np.ndarray, mean: np.ndarray, std: np.ndarray, alpha: np.ndarray,
             content_stats: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        if self.config.runtime == "onnx":
            feed = {"image": image, "style_mean": mean, "style_std": std, "strength": alpha}
            if content_stats is None:
                return self._session("stylizer.onnx").run(None, feed)[0]
            feed.update(content_mean=content_stats[0], content_std=content_stats[1])
            return self._session("stylizer_tiled.onnx").run(None, feed)[0]
        import torch

        stats = None if content_stats is None else tuple(torch.from_numpy(s) for s in content_stats)
        with torch.no_grad():
            return self.net(torch.from_numpy(image), torch.from_numpy(mean), torch.from_numpy(std),
                            torch.from_numpy(alpha), stats).numpy()
