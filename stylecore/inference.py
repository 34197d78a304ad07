"""The one entry point the site uses: ``Engine.load(weights_dir)`` then ``engine.stylize(...)``.

The fast and arbitrary methods run on ONNX Runtime over numpy arrays and never import torch (~500 MiB of RSS);
torch is imported only when a request needs it: the optimize method, ``runtime="torch"``, or tiles of a preset
network (whose instance norms take the thumbnail's statistics, which the ONNX graph cannot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from .arbitrary import DEFAULT_STYLE_SCALE, ArbitraryStylizer
from .arrays import apply_settings, crop_box, match_colors, pad_for_network, run_tiled
from .configs import EngineConfig
from .errors import InvalidImageError, InvalidOptionError
from .imageio import check_image, fit_within, from_array, prepare_photo, to_array, to_rgb
from .presets import Preset, get_preset, load_transformer, read_presets
from .runtime import onnx_session

METHODS = ("fast", "arbitrary", "optimize")
_MARGIN = 16  # px of reflected context around the image for the fast network
_MULTIPLE = 4  # the preset network downsamples by 4
Progress = Callable[[int, int], None]


def check_strength(strength: float) -> None:
    if not 0.0 <= strength <= 1.0:
        raise InvalidOptionError(f"strength must be between 0 and 1, not {strength}")


@dataclass(frozen=True)
class Render:
    """What :meth:`Engine.render` paints: the photo at its working size and the full-strength render, same size."""

    photo: Image.Image  # RGB, as the engine saw it (prepare_photo)
    full: Image.Image  # RGB, before the photo's colours are kept and before the strength blend


def redial(photo: Image.Image, full: Image.Image, *, strength: float, preserve_color: bool) -> Image.Image:
    """The result :meth:`Engine.stylize` makes with ``strength`` and ``preserve_color``, from a kept full-strength
    render ``full`` and the photo at its size (``prepare_photo(photo, max_side)``). Both RGB; returns RGB."""
    check_strength(strength)
    if photo.size != full.size:
        raise InvalidImageError(f"the photo is {photo.width}x{photo.height} but the render is "
                                f"{full.width}x{full.height}; re-dialing needs both at the same size")
    out = apply_settings(to_array(photo), to_array(full), strength=strength, keep_colors=preserve_color)
    return from_array(out)


class Engine:
    """Loads networks lazily and keeps them for the life of the process (one Engine per worker)."""

    def __init__(self, weights_dir: Path, config: EngineConfig = EngineConfig(), cache_dir: Path | None = None):
        self.weights_dir = Path(weights_dir)
        self.config = config
        self.cache_dir = cache_dir
        self._presets = read_presets(self.weights_dir)
        self._nets: dict[str, object] = {}
        self._sessions: dict[str, object] = {}
        self._vgg = None
        self._arbitrary: ArbitraryStylizer | None = None

    @classmethod
    def load(cls, weights_dir: Path | str, **options) -> "Engine":
        return cls(Path(weights_dir), EngineConfig(**options))

    def presets(self) -> list[Preset]:
        return list(self._presets.values())

    def stylize(self, content: Image.Image, *, preset: str | None = None,
                style: Image.Image | Sequence[Image.Image] | None = None, style_weights: Sequence[float] | None = None,
                method: str = "fast", strength: float = 1.0, preserve_color: bool = False, max_side: int = 1024,
                style_scale: int = DEFAULT_STYLE_SCALE, progress: Progress | None = None, seed: int = 0) -> Image.Image:
        """Stylize ``content`` (any PIL mode) and return an RGB image at most ``max_side`` on its longest side.

        fast: the preset's feed-forward network. optimize: Gatys with the preset's painting or ``style``.
        arbitrary: any painting(s) in one pass; ``style`` may be a list of 2-4 images blended by ``style_weights``,
        encoded at ``style_scale`` px on the short side; the photo is painted at ``style_scale / 512`` of its size
        and resized back, so a larger scale gives finer brush strokes (arbitrary.py). A preset name also works as
        the style.
        ``strength`` 0-1: a blend of the result toward the photo, for every method, so equal steps of the control
        make equal changes of the picture (docs/engine.md).
        ``preserve_color`` keeps the content's colours.
        """
        check_strength(strength)
        x, out = self._render(content, preset=preset, style=style, style_weights=style_weights, method=method,
                              max_side=max_side, style_scale=style_scale, progress=progress, seed=seed)
        return from_array(apply_settings(x, out, strength=strength, keep_colors=preserve_color))

    def render(self, content: Image.Image, *, preset: str | None = None,
               style: Image.Image | Sequence[Image.Image] | None = None, style_weights: Sequence[float] | None = None,
               method: str = "fast", max_side: int = 1024, style_scale: int = DEFAULT_STYLE_SCALE,
               progress: Progress | None = None, seed: int = 0) -> Render:
        """The full-strength render (before ``preserve_color`` and ``strength``) and the photo at its size, both RGB,
        with the options of :meth:`stylize`. ``redial(render.photo, render.full, ...)`` then makes the result for
        any strength and colour setting, now or later, without painting again."""
        x, out = self._render(content, preset=preset, style=style, style_weights=style_weights, method=method,
                              max_side=max_side, style_scale=style_scale, progress=progress, seed=seed)
        return Render(photo=from_array(x), full=from_array(out))

    def _render(self, content: Image.Image, *, preset, style, style_weights, method: str, max_side: int,
                style_scale: int, progress: Progress | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The photo at its working size and the network's full-strength output, both (1, 3, H, W) in 0-1."""
        if method not in METHODS:
            raise InvalidOptionError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        if not 16 <= max_side <= 8192:
            raise InvalidOptionError(f"max_side must be between 16 and 8192, not {max_side}")
        check_image(content, "photo")
        if method == "optimize" and max_side > self.config.optimize_max_side:
            raise InvalidOptionError(f"the optimize method renders at most {self.config.optimize_max_side} px on the "
                                     f"longest side, not {max_side}")
        x = to_array(prepare_photo(content, max_side))
        if method == "fast":
            if preset is None:
                raise InvalidOptionError("the fast method needs a preset")
            out = self._fast(get_preset(self._presets, preset), x, progress)
        elif method == "arbitrary":
            styles = [self._style_image(preset, None)] if style is None else _as_list(style)
            out = self.arbitrary.stylize(x, styles, style_weights, style_scale=style_scale, progress=progress)
        else:
            out = self._optimize(x, self._style_image(preset, style), seed, progress)
        # Clipped before the colour transfer measures its luminance: a network may overshoot 0-1, and the render
        # kept for re-dialing is an 8-bit image, which must give back the same picture.
        return x, np.clip(out, 0.0, 1.0)

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

    def _torch(self):
        import torch

        torch.set_num_threads(self.config.threads)
        return torch

    def _optimize(self, x: np.ndarray, style_image: Image.Image, seed: int, progress: Progress | None) -> np.ndarray:
        """Gatys, coarse to fine, from the photo in the painting's colours: the palette is right from the first
        iteration, so the iterations go to the strokes (docs/quality.md)."""
        from .backbones import load_backbone
        from .optimize import optimize

        torch = self._torch()
        if self._vgg is None:
            self._vgg = load_backbone(cache_dir=self.cache_dir)
        config = replace(self.config.optimize, seed=seed)
        # Sized here for the full-size stage (Lanczos); optimize() shrinks it for the coarser stages.
        style = to_array(fit_within(style_image, round(config.style_scale * max(x.shape[-2:]))))
        init = torch.from_numpy(match_colors(x, style))
        out = optimize(self._vgg, torch.from_numpy(x), torch.from_numpy(style), config, progress, init)
        return out.numpy()

    def _net(self, preset: Preset):
        if preset.name not in self._nets:
            self._torch()
            self._nets[preset.name] = load_transformer(preset.weights_path, preset.metadata["network"])
        return self._nets[preset.name]

    def _session(self, preset: Preset):
        if preset.name not in self._sessions:
            self._sessions[preset.name] = onnx_session(
                preset.onnx_path, self.config.threads,
                f"the optimised network for {preset.title!r} is not installed ({preset.onnx_path.name}; "
                "run `python -m stylecore export`)")
        return self._sessions[preset.name]

    def _fast(self, preset: Preset, x: np.ndarray, progress: Progress | None) -> np.ndarray:
        h, w = x.shape[-2:]
        padded, box = pad_for_network(x, _MULTIPLE, _MARGIN)
        if h * w > self.config.tile_above:
            out = self._fast_tiled(preset, x, padded, progress)
        elif self.config.runtime == "onnx":
            out = self._session(preset).run(None, {"image": padded})[0]
        else:
            torch = self._torch()
            with torch.no_grad():
                out = self._net(preset)(torch.from_numpy(padded)).numpy()
        if progress:
            progress(1, 1)
        return crop_box(out, box)

    def _fast_tiled(self, preset: Preset, x: np.ndarray, padded: np.ndarray, progress: Progress | None) -> np.ndarray:
        """Tiles through the torch network, every instance norm frozen to the thumbnail's statistics (URST)."""
        from .tiling import frozen_norm_stats

        torch = self._torch()
        net = self._net(preset)
        thumbnail = pad_for_network(to_array(fit_within(from_array(x), self.config.tile)), _MULTIPLE, _MARGIN)[0]

        def tile(patch: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return net(torch.from_numpy(patch)).numpy()

        with frozen_norm_stats(net, torch.from_numpy(thumbnail)):
            return run_tiled(tile, padded, tile=self.config.tile, overlap=self.config.tile_overlap,
                             multiple=_MULTIPLE, progress=progress)

def _as_list(style) -> list[Image.Image]:
    return [style] if isinstance(style, Image.Image) else list(style)
