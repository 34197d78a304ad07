"""Running the arbitrary-style network: style codes, blending, ONNX Runtime or PyTorch, tiling for huge images.

Files in ``<weights>/arbitrary/``: ``arbitrary.pt`` (state dict), ``arbitrary.json`` (config, training record,
validation metrics), ``encoder.onnx`` (style image -> mean, std) and ``stylizer.onnx`` (photo, mean, std, strength
-> image).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .errors import CheckpointError, InvalidImageError, InvalidOptionError, MethodUnavailableError
from .imageio import check_image, fit_within, to_image, to_rgb, to_tensor
from .networks.arbitrary import ArbitraryConfig, ArbitraryStyleNet
from .ops import crop_box, mean_std, pad_for_network
from .tiling import run_tiled

MAX_STYLES = 4
MIN_STYLE_SCALE, MAX_STYLE_SCALE = 64, 2048
_MARGIN = 16
_FLAT_STYLE_STD = 0.01  # pixel std (0-1) below which a style image has nothing to transfer


def load_arbitrary_net(folder: Path) -> tuple[ArbitraryStyleNet, dict]:
    meta_path, weights_path = folder / "arbitrary.json", folder / "arbitrary.pt"
    if not meta_path.exists() or not weights_path.exists():
        raise MethodUnavailableError(
            "the arbitrary-style network is not installed (weights/arbitrary/arbitrary.pt); use a preset or the "
            "high-quality (optimize) method")
    try:
        meta = json.loads(meta_path.read_text())
        net = ArbitraryStyleNet(ArbitraryConfig(**meta["network"]))
        net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"the any-style network cannot be loaded ({exc})") from exc
    return net.eval().requires_grad_(False), meta


class ArbitraryStylizer:
    """Loaded once per Engine. ``stylize`` takes (1, 3, H, W) 0-1 and returns the same shape."""

    def __init__(self, folder: Path, config):
        self.folder = folder
        self.config = config
        self.net, self.metadata = load_arbitrary_net(folder)
        self._sessions: dict[str, object] = {}

    def _session(self, name: str):
        if name not in self._sessions:
            import onnxruntime as ort

            path = self.folder / name
            if not path.exists():
                raise MethodUnavailableError(
                    f"the optimised any-style network is not installed ({name}; run `python -m stylecore export`)")
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.config.threads
            options.inter_op_num_threads = 1
            self._sessions[name] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return self._sessions[name]

    def style_code(self, styles: Sequence[Image.Image], weights: Sequence[float] | None,
                   style_scale: int) -> tuple[torch.Tensor, torch.Tensor]:
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
            s = to_tensor(fit_within(to_rgb(image), style_scale))
            # Per channel: a flat red image has a large spread across channels but none within each one.
            if s.flatten(2).std(dim=2).max().item() < _FLAT_STYLE_STD:
                raise InvalidImageError("the style image is a single flat colour; pick one with some texture")
            m, d = self._encode_style(s)
            mean, std = mean + weight / total * m, std + weight / total * d
        return mean, std

    def _encode_style(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.config.runtime == "onnx":
            m, d = self._session("encoder.onnx").run(None, {"style": style.numpy()})
            return torch.from_numpy(m), torch.from_numpy(d)
        with torch.no_grad():
            return self.net.style_code(style)

    def stylize(self, x: torch.Tensor, styles: Sequence[Image.Image], weights: Sequence[float] | None, *,
                strength: float, style_scale: int, progress: Callable[[int, int], None] | None) -> torch.Tensor:
        mean, std = self.style_code(styles, weights, style_scale)
        alpha = torch.full((1, 1, 1, 1), float(strength))
        h, w = x.shape[-2:]
        padded, box = pad_for_network(x, ArbitraryStyleNet.multiple, _MARGIN)
        if h * w > self.config.tile_above:
            thumbnail, _ = pad_for_network(to_tensor(fit_within(to_image(x), self.config.tile)),
                                           ArbitraryStyleNet.multiple, _MARGIN)
            with torch.no_grad():
                stats = mean_std(self.net.encoder(thumbnail))
            out = run_tiled(lambda t: self.net(t, mean, std, alpha, stats), padded, tile=self.config.tile,
                            overlap=self.config.tile_overlap, multiple=ArbitraryStyleNet.multiple,
                            progress=progress)
            return crop_box(out, box)
        if self.config.runtime == "onnx":
            result = self._session("stylizer.onnx").run(None, {
                "image": padded.numpy(), "style_mean": mean.numpy(), "style_std": std.numpy(),
                "strength": alpha.numpy()})[0]
            out = torch.from_numpy(np.ascontiguousarray(result))
        else:
            with torch.no_grad():
                out = self.net(padded, mean, std, alpha)
        if progress:
            progress(1, 1)
        return crop_box(out, box)
