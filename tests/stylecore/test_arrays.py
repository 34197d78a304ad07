import numpy as np
import pytest

from stylecore.arrays import crop_box, match_colors, pad_for_network, preserve_color, rgb_to_yiq
from stylecore.imageio import from_array, to_array

from .synthetic import draw_photo


def _mid_range_image(seed: int) -> np.ndarray:
    # Away from 0 and 1, so the final clip does not touch the colour channels being compared.
    return (0.3 + 0.4 * np.random.default_rng(seed).random((1, 3, 24, 20))).astype(np.float32)


def test_it_keeps_the_content_chroma_when_preserving_color():
    content, stylized = _mid_range_image(5), _mid_range_image(6)
    out = preserve_color(content, stylized)
    np.testing.assert_allclose(rgb_to_yiq(out)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=2e-3, rtol=0)


def test_it_keeps_the_stylized_luminance_structure_when_preserving_color():
    content, stylized = _mid_range_image(7), _mid_range_image(8)
    y_out = rgb_to_yiq(preserve_color(content, stylized))[0, 0].ravel()
    y_stylized = rgb_to_yiq(stylized)[0, 0].ravel()
    y_content = rgb_to_yiq(content)[0, 0].ravel()
    assert np.corrcoef(y_out, y_stylized)[0, 1] > 0.99
    assert np.corrcoef(y_out, y_content)[0, 1] < 0.5


@pytest.mark.parametrize("size", [(37, 53), (5, 7), (64, 64), (1, 31)])
@pytest.mark.parametrize("margin", [0, 16])
def test_it_round_trips_padding_for_any_size(size, margin):
    image = np.random.default_rng(9).random((1, 3, *size), dtype=np.float32)
    padded, box = pad_for_network(image, multiple=4, margin=margin)
    assert padded.shape[-2] % 4 == 0 and padded.shape[-1] % 4 == 0
    assert np.array_equal(crop_box(padded, box), image)


def test_it_reflects_the_border_into_the_margin():
    image = np.arange(1 * 3 * 8 * 8, dtype=np.float32).reshape(1, 3, 8, 8)
    padded, (top, left, _, _) = pad_for_network(image, multiple=4, margin=2)
    assert np.array_equal(padded[:, :, top - 1, left:left + 8], image[:, :, 1])  # reflection, not a copy of row 0


def test_it_round_trips_images_through_arrays():
    photo = draw_photo((30, 20), seed=3)
    array = to_array(photo)
    assert array.shape == (1, 3, 20, 30) and array.dtype == np.float32 and 0.0 <= array.min() <= array.max() <= 1.0
    assert np.array_equal(np.asarray(from_array(array)), np.asarray(photo.convert("RGB")))


def test_the_tiles_own_every_pixel_once():
    from stylecore.arrays import tiles

    h, w = 200, 136
    image = np.broadcast_to(np.arange(h * w, dtype=np.float32).reshape(1, 1, h, w), (1, 3, h, w))  # pixel ids
    owned = []
    for patch, (y, x, bh, bw), (top, left, th, tw) in tiles(image, tile=112, overlap=32, multiple=8):
        assert top % 8 == 0 and left % 8 == 0 and patch.shape[-2] % 8 == 0 and patch.shape[-1] % 8 == 0
        np.testing.assert_array_equal(patch[0, 0, :bh, :bw], image[0, 0, y:y + bh, x:x + bw])
        owned += patch[0, 0, top:top + th, left:left + tw].ravel().tolist()
    assert sorted(owned) == list(range(h * w))


def test_match_colors_gives_the_reference_colour_mean_and_covariance():
    rng = np.random.default_rng(0)
    image = (0.3 + 0.2 * rng.random((1, 3, 40, 30))).astype(np.float32)
    # A reference whose channels are correlated, with other means; its values stay inside 0-1 after the map.
    base = rng.random((1, 1, 20, 50))
    reference = np.concatenate([0.2 + 0.3 * base, 0.5 - 0.2 * base, 0.4 + 0.1 * rng.random((1, 1, 20, 50))], 1)
    out = match_colors(image, reference.astype(np.float32))
    assert out.shape == image.shape
    pixels, ref = out.reshape(3, -1), reference.reshape(3, -1)
    np.testing.assert_allclose(pixels.mean(1), ref.mean(1), atol=2e-3)
    np.testing.assert_allclose(np.cov(pixels), np.cov(ref), atol=2e-3)
