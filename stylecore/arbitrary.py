"""Running the arbitrary-style network: style codes, blending, ONNX Runtime or PyTorch, tiling for huge images.

Files in ``<weights>/arbitrary/``: ``arbitrary.pt`` (state dict), ``arbitrary.pt.json`` (config, training record,
validation metrics), ``encoder.onnx`` (image -> features), its int8 version ``encoder.int8.onnx``, and
``decoder.onnx`` (features, matrix, bias -> image).
Between the two, whitening.py turns the photo's and the paintings' feature statistics into the matrix and bias. A huge
photo is stylized in tiles that all use one map, made from the statistics of all the tiles' features, so that tiles
match each other and the untiled render. The ONNX path needs no torch.
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

from .arrays import crop_box, pad_for_network, run_tiled, tiles
from .errors import CheckpointError, InvalidImageError, InvalidOptionError, MethodUnavailableError
from .imageio import check_image, fit_within, to_array, to_rgb
from .runtime import onnx_session
from .sidecars import sidecar_path
from .whitening import blend, feature_stats, style_code, transform

MAX_STYLES = 4
MIN_STYLE_SCALE, MAX_STYLE_SCALE = 64, 2048
ENCODER_SCALE = 4  # the encoder's features are at 1/4 of the image's resolution
IMAGE_MULTIPLE = 2 * ENCODER_SCALE  # image sides: the decoder's coarse path halves the features once more
# px of reflected photo around the image while it goes through the network, cut off after decoding: the convs' zero
# padding paints a frame of stripes along the output's edges. Training runs with the same margin
# (training_arbitrary.add_margin), so that the photo's statistics and the decoder see there what they see here.
MARGIN = 16
_FLAT_STYLE_STD = 0.01  # pixel std (0-1) below which a style image has nothing to transfer
# Style codes kept per Engine, the least recently used dropped first: a live preview re-renders the same painting as
# the strength slider moves, and encoding it was most of a preview's time. One code is ~0.5 MiB (a 256 x 256 float64
# matrix).
_CACHED_CODES = 16
ENCODERS = {"int8": "encoder.int8.onnx", "float": "encoder.onnx"}  # EngineConfig.arbitrary_encoder -> graph
# Bytes of float32 features a tiled render may hold between its two passes: 2048² needs ~310 MB, 4096² ~1.2 GB, which
# in float16 keeps its peak near 2.3 GB.
_WAITING_FEATURES = 512 * 2 ** 20


def load_arbitrary_net(folder: Path):
    """The PyTorch network and its metadata (for runtime="torch", export and evaluation)."""
    import torch

    from .networks.arbitrary import ArbitraryConfig, ArbitraryStyleNet

    meta = read_metadata(folder)
    if not (folder / "arbitrary.pt").exists():
        raise MethodUnavailableError(_NOT_INSTALLED)
    try:
        net = ArbitraryStyleNet(ArbitraryConfig.from_dict(meta["network"]))
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
        if config.arbitrary_encoder not in ENCODERS:
            raise InvalidOptionError(f"the any-style encoder is one of {', '.join(ENCODERS)}, not "
                                     f"{config.arbitrary_encoder!r}")
        self.folder = folder
        self.config = config
        self.metadata = read_metadata(folder)
        self._net = None
        self._sessions: dict[str, object] = {}
        self._codes: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
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
                   style_scale: int) -> tuple[np.ndarray, np.ndarray]:
        """Blend 1-4 style images into one style code (mean (C,), colouring matrix (C, C); whitening.py).

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
        codes = []
        for image in styles:
            check_image(image, "style image")
            s = to_array(fit_within(to_rgb(image), style_scale))
            # Per channel: a flat red image has a large spread across channels but none within each one.
            if s.reshape(3, -1).std(axis=1).max() < _FLAT_STYLE_STD:
                raise InvalidImageError("the style image is a single flat colour; pick one with some texture")
            codes.append(self._style_code(s))
        return blend(codes, [w / sum(weights) for w in weights])

    def _style_code(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One style image's code, from the cache when these exact pixels (at this style scale) were encoded before."""
        key = hashlib.blake2b(image.tobytes(), digest_size=16).digest() + repr(image.shape).encode()
        with self._codes_lock:
            if key in self._codes:
                self._codes.move_to_end(key)
                return self._codes[key]
        code = style_code(self._encode(image))
        with self._codes_lock:
            self._codes[key] = code
            if len(self._codes) > _CACHED_CODES:
                self._codes.popitem(last=False)
        return code

    def stylize(self, x: np.ndarray, styles: Sequence[Image.Image], weights: Sequence[float] | None, *,
                style_scale: int, progress: Callable[[int, int], None] | None) -> np.ndarray:
        """The full-strength render; the engine blends it toward the photo for a lower strength."""
        style = self.style_code(styles, weights, style_scale)
        h, w = x.shape[-2:]
        padded, box = pad_for_network(x, IMAGE_MULTIPLE, MARGIN)
        if h * w > self.config.arbitrary_tile_above:
            out = self._stylize_tiled(padded, style, progress)
        else:
            features = self._encode(padded)
            matrix, bias = transform(feature_stats(features), style, 1.0)
            out = self._decode(features, matrix, bias)
        if progress:
            progress(1, 1)
        return crop_box(out, box)

    def _stylize_tiled(self, padded: np.ndarray, style, progress: Callable[[int, int], None] | None) -> np.ndarray:
        """Two passes over the tiles: encode them all and take the photo's statistics from their features, then
        decode each. The statistics are then the whole photo's at its own scale, so the result is an untiled
        render's up to the sampling of positions for the statistics (mean difference 3.1/255 at 2048 x 1536, where
        sampling the untiled render's own positions differently moves it by 2.2/255), against 16.7/255 with
        statistics from a 1024 px thumbnail, which sees every form at half its size. Between the passes the
        features wait in memory, in float16 when float32 would take more than :data:`_WAITING_FEATURES`
        (converting costs ~40 ms a tile)."""
        options = {"tile": self.config.arbitrary_tile, "overlap": self.config.tile_overlap, "multiple": IMAGE_MULTIPLE}
        encoded, owned = [], []
        patches = tiles(padded, **options)
        dtype = np.float32
        for index, (patch, (top, left, h, w)) in enumerate(patches):
            features = self._encode(patch)
            if index == 0 and features.nbytes * len(patches) > _WAITING_FEATURES:  # the first tile is the largest
                dtype = np.float16
            encoded.append(features.astype(dtype, copy=False))
            top, left, h, w = (v // ENCODER_SCALE for v in (top, left, h, w))
            owned.append(encoded[-1][..., top:top + h, left:left + w])
            if progress:
                progress(index + 1, 2 * len(patches))
        stats = feature_stats(*owned)
        matrix, bias = transform(stats, style, 1.0)
        queue = iter(encoded)  # run_tiled visits the tiles in the order tiles() lists them
        return run_tiled(lambda _: self._decode(next(queue).astype(np.float32, copy=False), matrix, bias),
                         padded, progress=progress and (lambda done, total: progress(total + done, 2 * total)),
                         **options)

    def _encode(self, image: np.ndarray) -> np.ndarray:
        """(1, 3, H, W) -> encoder features (1, C, H/4, W/4)."""
        if self.config.runtime == "onnx":
            return self._session(ENCODERS[self.config.arbitrary_encoder]).run(None, {"image": image})[0]
        import torch

        with torch.no_grad():
            return self.net.encoder(torch.from_numpy(image)).numpy()

    def _decode(self, features: np.ndarray, matrix: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """Features (1, C, h, w) and the map t = A f + b (matrix (C, C), bias (C,)) -> the image (1, 3, 4h, 4w)."""
        if self.config.runtime == "onnx":
            feed = {"features": features, "matrix": matrix[None], "bias": bias[None]}
            return self._session("decoder.onnx").run(None, feed)[0]
        import torch

        with torch.no_grad():
            return self.net(*(torch.from_numpy(a) for a in (features, matrix[None], bias[None]))).numpy()
