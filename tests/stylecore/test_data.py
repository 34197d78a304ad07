import colorsys

import pytest
import torch
from PIL import Image

from stylecore.data import CropSampler, rotate_hue


def _hue(rgb) -> float:
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0]


@pytest.mark.parametrize("turn", [0.25, -0.4, 1 / 3])
def test_it_rotates_the_hue_and_keeps_saturation_and_value(turn):
    red = Image.new("RGB", (4, 4), (200, 40, 40))
    rotated = rotate_hue(red, turn).getpixel((0, 0))
    assert abs((_hue(rotated) - turn) % 1.0) < 0.01 or abs((_hue(rotated) - turn) % 1.0 - 1.0) < 0.01
    assert max(rotated) == pytest.approx(200, abs=2) and min(rotated) == pytest.approx(40, abs=2)


@pytest.fixture
def red_painting(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (200, 40, 40)).save(path)
    return [path]


def test_it_keeps_the_colours_without_hue_jitter(red_painting):
    crops = CropSampler(red_painting, 32, seed=0).batch(8)
    assert torch.allclose(crops[:, 0], torch.tensor(200 / 255), atol=0.01)


def test_it_gives_half_the_crops_other_hues_with_hue_jitter(red_painting):
    crops = CropSampler(red_painting, 32, seed=0, hue_jitter=0.5).batch(40)
    still_red = (crops[:, 0].flatten(1).mean(1) - 200 / 255).abs() < 0.01
    assert 10 <= int(still_red.sum()) <= 30  # the untouched half (plus rotations too small to see)
    assert torch.allclose(crops.amax(1), torch.tensor(200 / 255), atol=0.02)  # value kept
