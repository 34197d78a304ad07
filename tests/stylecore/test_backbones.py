import pytest
import torch
import torchvision

from stylecore.backbones import VGG16_HED_FILE, default_cache_dir, load_backbone, load_vgg19
from stylecore.errors import BackboneMissingError, CheckpointError

# Our name -> index of the matching ReLU in torchvision's vgg19().features
_VGG19_RELUS = {"relu1_1": 1, "relu1_2": 3, "relu2_2": 8, "relu3_4": 17, "relu4_1": 20, "relu4_4": 26}


def test_it_returns_the_named_vgg16_layers_with_their_shapes():
    vgg = load_backbone("vgg16-hed")
    x = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        features = vgg(x, ("relu1_2", "relu2_2", "relu3_3", "relu4_3"))
    shapes = {name: tuple(f.shape) for name, f in features.items()}
    assert shapes == {"relu1_2": (1, 64, 32, 48), "relu2_2": (1, 128, 16, 24),
                      "relu3_3": (1, 256, 8, 12), "relu4_3": (1, 512, 4, 6)}
    assert all(f.min() >= 0 and f.max() > 0 for f in features.values())


def test_it_says_how_to_fix_a_missing_backbone(tmp_path):
    with pytest.raises(BackboneMissingError, match="python -m stylecore backbone"):
        load_backbone("vgg16-hed", cache_dir=tmp_path)


def test_it_rejects_a_corrupt_backbone_file(tmp_path):
    (tmp_path / VGG16_HED_FILE).write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_backbone("vgg16-hed", cache_dir=tmp_path)


def test_it_rejects_a_backbone_that_fails_its_checksum(tmp_path):
    state = torch.load(default_cache_dir() / VGG16_HED_FILE, weights_only=True)
    state["conv1_1.bias"] = state["conv1_1.bias"] + 1.0
    torch.save(state, tmp_path / VGG16_HED_FILE)
    with pytest.raises(CheckpointError, match="checksum"):
        load_backbone("vgg16-hed", cache_dir=tmp_path)


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
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    expected, h = {}, (x - mean) / std
    with torch.no_grad():
        for index, layer in enumerate(model.features[: max(_VGG19_RELUS.values()) + 1]):
            h = layer(h)
            expected[index] = h.clone()  # torchvision's ReLUs are in-place
        got = ours(x, tuple(_VGG19_RELUS))
    for name, index in _VGG19_RELUS.items():
        assert expected[index].abs().max() > 0
        torch.testing.assert_close(got[name], expected[index], atol=1e-4, rtol=1e-4)


def test_it_rejects_a_vgg19_file_with_the_wrong_shapes(torchvision_vgg19, tmp_path):
    state = torch.load(torchvision_vgg19[1], weights_only=True)
    state["features.2.weight"] = torch.zeros(32, 64, 3, 3)
    torch.save(state, tmp_path / "narrow.pth")
    with pytest.raises(CheckpointError, match="conv1_2"):
        load_vgg19(tmp_path / "narrow.pth")


def test_it_reports_a_missing_vgg19_file(tmp_path):
    with pytest.raises(BackboneMissingError):
        load_vgg19(tmp_path / "absent.pth")
