import pytest
import torch
from PIL import Image

from stylecore.data import CropSampler


@pytest.fixture
def red_painting(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (200, 40, 40)).save(path)
    return [path]


def test_it_keeps_the_colours(red_painting):
    crops = CropSampler(red_painting, 32, seed=0).batch(8)
    assert torch.allclose(crops[:, 0], torch.tensor(200 / 255), atol=0.01)
