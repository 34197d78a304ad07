"""The one entry point the site uses: ``Engine.load(weights_dir)`` then ``engine.stylize(...)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .arbitrary import ArbitraryStylizer
from .backbones import load_backbone
from .errors import InvalidOptionError, MethodUnavailableError
from .networks import TransformerNet
from .imageio import check_image, fit_within, to_image, to_rgb, to_tensor
from .ops import crop_box, pad_for_network, preserve_color as keep_colors
from .optimize import OptimizeConfig, optimize
from .presets import Preset, get_preset, load_transformer, read_presets
from .tiling import frozen_norm_stats, run_tiled

METHODS = ("fast", "arbitrary", "optimize")
_MARGIN = 16  # px of reflected context around the image for the fast network
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EngineConfig:
    threads: int = 2
    runtime: str = "onnx"            # "onnx" (ONNX Runtime) or "torch" for the fast method
    tile_above: int = 2048 * 2048    # fast method: images with more pixels run in tiles
    tile: int = 1024
    tile_overlap: int = 64
    optimize_max_side: int = 512     # the optimize method is slow; larger requests are rendered at this size
    optimize: OptimizeConfig = OptimizeConfig()


class Engine:
    """Loads networks lazily and keeps them for the life of the process (one Engine per worker)."""

    def __init__(self, weights_dir: Path, config: EngineConfig = EngineConfig(), cache_dir: Path | None = None):
        self.weights_dir = Path(weights_dir)
        self.config = config
        self.cache_dir = cache_dir
        self._presets = read_presets(self.weights_dir)
        self._nets: dict[str, torch.nn.Module] = {}
        self._sessions: dict[str, object] = {}
        self._vgg = None
        self._arbitrary: ArbitraryStylizer | None = None
        torch.set_num_threads(config.threads)

    @classmethod
    def load(cls, weights_dir: Path | str, **options) -> "Engine":
        return cls(Path(weights_dir), EngineConfig(**options))

    def presets(self) -> list[Preset]:
        return list(self._presets.values())

    def stylize(self, content: Image.Image, *, preset: str | None = None,
                style: Image.Image | Sequence[Image.Image] | None = None, style_weights: Sequence[float] | None = None,
                method: str = "fast", strength: float = 1.0, preserve_color: bool = False, max_side: int = 1024,
                style_scale: int = 512, progress: Progress | None = None, seed: int = 0) -> Image.Image:
        """Stylize ``content`` (any PIL mode) and return an RGB image at most ``max_side`` on its longest side.

        fast: the preset's feed-forward network. optimize: Gatys with the preset's painting or ``style``.
        arbitrary: any painting(s) in one pass; ``style`` may be a list of 2-4 images blended by ``style_weights``,
        encoded at ``style_scale`` px (larger -> finer brush strokes). A preset name also works as the style.
        ``strength`` 0-1: for arbitrary, AdaIN's feature-space alpha; otherwise a blend toward the photo.
        ``preserve_color`` keeps the content's colours.
        """
        if method not in METHODS:
            raise InvalidOptionError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        if not 0.0 <= strength <= 1.0:
            raise InvalidOptionError(f"strength must be between 0 and 1, not {strength}")
        if not 16 <= max_side <= 8192:
            raise InvalidOptionError(f"max_side must be between 16 and 8192, not {max_side}")
        check_image(content, "photo")
        if method == "optimize":
            max_side = min(max_side, self.config.optimize_max_side)
        x = to_tensor(fit_within(to_rgb(content), max_side))
        if method == "fast":
            if preset is None:
                raise InvalidOptionError("the fast method needs a preset")
            out = self._fast(get_preset(self._presets, preset), x, progress)
        elif method == "arbitrary":
            styles = [self._style_image(preset, None)] if style is None else _as_list(style)
            out = self.arbitrary.stylize(x, styles, style_weights, strength=strength, style_scale=style_scale,
                                         progress=progress)
            strength = 1.0  # already applied in feature space
        else:
            style_image = self._style_image(preset, style)
            out = optimize(self._backbone(), x, to_tensor(fit_within(style_image, self.config.optimize.style_size)),
                           replace(self.config.optimize, seed=seed), progress)
        if preserve_color:
            out = keep_colors(x, out)
        if strength < 1.0:
            out = strength * out + (1.0 - strength) * x
        return to_image(out)

    @property
    def arbitrary(self) -> ArbitraryStylizer:
        if self._arbitrary is None:
            self._arbitrary = ArbitraryStylizer(self.weights_dir / "arbitrary", self.config)
        return self._arbitrary

    def _style_image(self, preset: str | None, style) -> Image.Image:
        if (preset is None) == (style is None):
            raise InvalidOptionError("give either a preset or a style image, not both or neither")
        if style is not None:
            if not isinstance(style, Image.Image):
                raise InvalidOptionError("the optimize method takes one style image")
            check_image(style, "style image")
            return to_rgb(style)
        with Image.open(get_preset(self._presets, preset).style_path) as image:
            return to_rgb(image)

    def _backbone(self):
        if self._vgg is None:
            self._vgg = load_backbone("vgg16-hed", cache_dir=self.cache_dir)
        return self._vgg

    def _net(self, preset: Preset) -> torch.nn.Module:
        if preset.name not in self._nets:
            self._nets[preset.name] = load_transformer(preset.weights_path, preset.metadata["network"])
        return self._nets[preset.name]

    def _session(self, preset: Preset):
        if preset.name not in self._sessions:
            import onnxruntime as ort

            if not preset.onnx_path.exists():
                raise MethodUnavailableError(
                    f"the optimised network for {preset.title!r} is not installed ({preset.onnx_path.name}; "
                    "run `python -m stylecore export`)")
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.config.threads
            options.inter_op_num_threads = 1
            self._sessions[preset.name] = ort.InferenceSession(
                str(preset.onnx_path), options, providers=["CPUExecutionProvider"])
        return self._sessions[preset.name]

    def _fast(self, preset: Preset, x: torch.Tensor, progress: Progress | None) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h * w > self.config.tile_above:
            net = self._net(preset)
            thumbnail = fit_within(to_image(x), self.config.tile)
            with frozen_norm_stats(net, pad_for_network(to_tensor(thumbnail), net.multiple, _MARGIN)[0]):
                padded, box = pad_for_network(x, net.multiple, _MARGIN)
                return crop_box(run_tiled(net, padded, tile=self.config.tile, overlap=self.config.tile_overlap,
                                          multiple=net.multiple, progress=progress), box)
        padded, box = pad_for_network(x, TransformerNet.multiple, _MARGIN)
        if self.config.runtime == "onnx":
            session = self._session(preset)
            result = session.run(None, {"image": padded.numpy()})[0]
            out = torch.from_numpy(np.ascontiguousarray(result))
        else:
            with torch.no_grad():
                out = self._net(preset)(padded)
        if progress:
            progress(1, 1)
        return crop_box(out, box)


def _as_list(style) -> list[Image.Image]:
    return [style] if isinstance(style, Image.Image) else list(style)
