"""Running the any-style network (MicroAST, networks/microast.py): style codes, blending, ONNX Runtime or PyTorch,
tiles for huge photos.

Files in ``<weights>/arbitrary/``: ``microast.pt`` (state dict) and ``microast.pt.json`` (credit, training recipe,
steps), and four ONNX graphs (export.py):

    painting ─ style.onnx ── code (8, 64) ───────────────┬──────────────────────┐
    photo ──── encoder.onnx ── c ── modulate.onnx(c, stats of c, code) ── h ── decoder.onnx(h, stats of h, code) ─ image

The photo's two statistics (per-channel mean and std of c and of h) are computed here in numpy, between the graphs.
A photo above ``EngineConfig.arbitrary_tile_above`` pixels runs in tiles, in three passes (encode, modulate, decode),
each pass's statistics gathered from the parts of the tiles that each tile alone owns. The tiles overlap by more than
twice the network's reach, so every owned pixel sees exactly what it sees in a whole render: the tiles join without
seams and agree with the untiled result up to float rounding (tests/stylecore/test_arbitrary.py). The ONNX path needs
no torch.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .arrays import crop_box, pad_for_network, tiles
from .errors import CheckpointError, InvalidImageError, InvalidOptionError, MethodUnavailableError
from .imageio import check_image, to_array, to_rgb
from .runtime import onnx_session
from .sidecars import sidecar_path

MAX_STYLES = 4
MIN_STYLE_SCALE, MAX_STYLE_SCALE = 64, 2048
# The brush control. MicroAST sums a painting up in global statistics, so the size at which it is encoded barely
# changes the result (fine -> bold moved a 1024 px render by 1-4/255); its strokes have a fixed size in pixels, the
# reach of its decoder. So ``style_scale`` also sets the size at which the photo is painted: style_scale / 512 of the
# size asked (the site's fine 896: 1.75x, bold 352: 0.6875x), then resized to it, which makes the strokes smaller or
# larger relative to the picture (each step moved a 512 px render by 8-17/255; tests/gallery/test_controls.py).
DEFAULT_STYLE_SCALE = 512
MAX_WORKING_SIDE = 6144  # fine strokes on a 4096 px photo: painted at 1.5x (not 1.75x), at most this long side
SCALE = 4  # the network's features are at 1/4 of the image's resolution (networks.microast.SCALE)
EPS = 1e-5  # networks.microast.EPS: the published network's variance epsilon
WEIGHTS_FILE = "microast.pt"
GRAPHS = ("style.onnx", "encoder.onnx", "modulate.onnx", "decoder.onnx")
# A painting is encoded at ``style_scale`` px on its short side, its long side at most this many times that: a
# panorama would otherwise be encoded at many megapixels for statistics that a part of it already gives.
_STYLE_ASPECT_CAP = 3
_FLAT_STYLE_STD = 0.01  # pixel std (0-1) below which a style image has nothing to transfer
# Style codes kept per Engine, the least recently used dropped first: a live preview re-renders the same painting as
# the strength slider moves. A code is 2 KiB.
_CACHED_CODES = 16


def load_arbitrary_net(folder: Path):
    """The PyTorch network and its metadata (for runtime="torch" and export)."""
    import torch

    from .networks.microast import MicroAST

    meta = read_metadata(folder)
    if not (folder / WEIGHTS_FILE).exists():
        raise MethodUnavailableError(_NOT_INSTALLED)
    net = MicroAST()
    try:
        net.load_state_dict(torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True))
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise CheckpointError(f"the any-style network cannot be loaded ({exc})") from exc
    return net.eval().requires_grad_(False), meta


_NOT_INSTALLED = ("the any-style network is not installed (weights/arbitrary/); use a preset or the "
                  "high-quality (optimize) method")


def read_metadata(folder: Path) -> dict:
    try:
        return json.loads(sidecar_path(folder / WEIGHTS_FILE).read_text())
    except FileNotFoundError:
        raise MethodUnavailableError(_NOT_INSTALLED) from None
    except ValueError as exc:
        raise CheckpointError(f"the any-style network's metadata is malformed ({exc})") from exc


def style_array(image: Image.Image, style_scale: int) -> np.ndarray:
    """A style image as the network sees it: RGB 0-1 (1, 3, h, w), ``style_scale`` px on its short side (Lanczos),
    its long side at most ``_STYLE_ASPECT_CAP`` times that."""
    image = to_rgb(image)
    factor = min(style_scale / min(image.size), _STYLE_ASPECT_CAP * style_scale / max(image.size))
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return to_array(image.resize(size, Image.Resampling.LANCZOS))


def feature_stats(*parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (each (1, C), float32) of features (1, C, h, w) taken together: the std from the
    unbiased variance plus :data:`EPS`, as networks.microast.mean_std (sums in float64: 4096² has 1 M positions)."""
    count = sum(p.shape[-2] * p.shape[-1] for p in parts)
    total = sum(p.sum(axis=(0, 2, 3), dtype=np.float64) for p in parts)
    squares = sum(np.einsum("nchw,nchw->c", p, p, dtype=np.float64) for p in parts)
    mean = total / count
    variance = (squares - count * mean ** 2) / max(count - 1, 1)
    std = np.sqrt(np.maximum(variance, 0.0) + EPS)
    return mean[None].astype(np.float32), std[None].astype(np.float32)


def resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(1, C, H, W) float32 -> (1, C, *size) (height, width), Lanczos per channel in float (no 8-bit rounding)."""
    height, width = size
    return np.stack([np.asarray(Image.fromarray(channel).resize((width, height), Image.Resampling.LANCZOS))
                     for channel in image[0]])[None]


class ArbitraryStylizer:
    """Loaded once per Engine. ``stylize`` takes (1, 3, H, W) 0-1 arrays and returns the same shape."""

    def __init__(self, folder: Path, config):
        self.folder = folder
        self.config = config
        self.metadata = read_metadata(folder)
        self._net = None
        self._sessions: dict[str, object] = {}
        self._codes: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._codes_lock = threading.Lock()  # the web process serves previews from several threads

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
                   style_scale: int) -> np.ndarray:
        """Blend 1-4 style images into one style code (1, 8, 64): the weighted mean of their codes, weights
        normalised to sum to 1 (AdaIN sec. 7: a convex combination of the styles' statistics)."""
        if not 1 <= len(styles) <= MAX_STYLES:
            raise InvalidOptionError(f"blend 1 to {MAX_STYLES} styles, not {len(styles)}")
        weights = [1.0] * len(styles) if weights is None else [float(w) for w in weights]
        if len(weights) != len(styles):
            raise InvalidOptionError(f"{len(styles)} styles but {len(weights)} weights")
        if any(w < 0 or not np.isfinite(w) for w in weights) or sum(weights) <= 0:
            raise InvalidOptionError("style weights must be non-negative numbers with a positive sum")
        if not MIN_STYLE_SCALE <= style_scale <= MAX_STYLE_SCALE:
            raise InvalidOptionError(f"style scale must be between {MIN_STYLE_SCALE} and {MAX_STYLE_SCALE} px")
        codes = []
        for image in styles:
            check_image(image, "style image")
            s = style_array(image, style_scale)
            # Per channel: a flat red image has a large spread across channels but none within each one.
            if s.reshape(3, -1).std(axis=1).max() < _FLAT_STYLE_STD:
                raise InvalidImageError("the style image is a single flat colour; pick one with some texture")
            codes.append(self._style_code(s))
        return sum(w / sum(weights) * code for w, code in zip(weights, codes)).astype(np.float32)

    def _style_code(self, image: np.ndarray) -> np.ndarray:
        """One style image's code, from the cache when these exact pixels were encoded before."""
        key = hashlib.blake2b(image.tobytes(), digest_size=16).digest() + repr(image.shape).encode()
        with self._codes_lock:
            if key in self._codes:
                self._codes.move_to_end(key)
                return self._codes[key]
        code = self._run("style.onnx", "style_code", image)
        with self._codes_lock:
            self._codes[key] = code
            if len(self._codes) > _CACHED_CODES:
                self._codes.popitem(last=False)
        return code

    def stylize(self, x: np.ndarray, styles: Sequence[Image.Image], weights: Sequence[float] | None, *,
                style_scale: int, progress: Callable[[int, int], None] | None) -> np.ndarray:
        """The full-strength render, painted at the size the brush asks (:data:`DEFAULT_STYLE_SCALE`) and returned
        at ``x``'s; the engine blends it toward the photo for a lower strength."""
        code = self.style_code(styles, weights, style_scale)
        size = x.shape[-2:]
        factor = min(style_scale / DEFAULT_STYLE_SCALE, MAX_WORKING_SIDE / max(size))
        working = tuple(max(SCALE, round(side * factor)) for side in size)
        if working == size:
            return self._paint(x, code, progress)
        return resized(self._paint(resized(x, working), code, progress), size)

    def _paint(self, x: np.ndarray, code: np.ndarray, progress: Callable[[int, int], None] | None) -> np.ndarray:
        """(1, 3, H, W) 0-1 in the style ``code``, same shape; in tiles above ``arbitrary_tile_above`` pixels."""
        h, w = x.shape[-2:]
        padded, box = pad_for_network(x, SCALE)
        if h * w > self.config.arbitrary_tile_above:
            out = self._stylize_tiled(padded, code, progress)
        else:
            features = self._run("encoder.onnx", "encode", padded)
            hidden = self._run("modulate.onnx", "modulate", features, *feature_stats(features), code)
            out = self._run("decoder.onnx", "decode", hidden, *feature_stats(hidden), code)
        if progress:
            progress(1, 1)
        return crop_box(out, box)

    def _stylize_tiled(self, padded: np.ndarray, code: np.ndarray,
                       progress: Callable[[int, int], None] | None) -> np.ndarray:
        """Three passes over the tiles (encode, modulate, decode); the statistics between them come from the owned
        parts of all the tiles, hence of the whole photo. Each tile's output is pasted over the part it owns."""
        patches = tiles(padded, tile=self.config.arbitrary_tile, overlap=self.config.arbitrary_tile_overlap,
                        multiple=SCALE)
        steps, done = 3 * len(patches), 0

        def owned(features: np.ndarray, core) -> np.ndarray:
            top, left, h, w = (v // SCALE for v in core)
            return features[..., top:top + h, left:left + w]

        def tick() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, steps)

        features = []
        for patch, _, _ in patches:
            features.append(self._run("encoder.onnx", "encode", patch))
            tick()
        stats = feature_stats(*(owned(f, core) for f, (_, _, core) in zip(features, patches)))
        for index, f in enumerate(features):
            features[index] = self._run("modulate.onnx", "modulate", f, *stats, code)  # the tile's hidden features
            tick()
        stats = feature_stats(*(owned(f, core) for f, (_, _, core) in zip(features, patches)))
        out = np.empty_like(padded)
        for index, (hidden, (_, (top, left, _, _), (ct, cl, ch, cw))) in enumerate(zip(features, patches)):
            tile = self._run("decoder.onnx", "decode", hidden, *stats, code)
            out[..., top + ct:top + ct + ch, left + cl:left + cl + cw] = tile[..., ct:ct + ch, cl:cl + cw]
            features[index] = None  # frees the tile's features as soon as it is painted
            tick()
        return out

    def _run(self, graph: str, method: str, *inputs: np.ndarray) -> np.ndarray:
        """One stage: ONNX Runtime's ``graph``, or the torch network's ``method``, on the same inputs."""
        if self.config.runtime == "onnx":
            session = self._session(graph)
            return session.run(None, {i.name: a for i, a in zip(session.get_inputs(), inputs)})[0]
        import torch

        with torch.no_grad():
            return getattr(self.net, method)(*(torch.from_numpy(a) for a in inputs)).numpy()
