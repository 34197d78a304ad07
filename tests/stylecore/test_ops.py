import pytest
import torch

from stylecore.ops import adain, crop_box, gram_matrix, mean_std, pad_for_network, preserve_color, rgb_to_yiq


def _features(seed: int, shape=(2, 8, 12, 10)) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_it_makes_symmetric_gram_matrices():
    gram = gram_matrix(_features(0))
    assert gram.shape == (2, 8, 8)
    torch.testing.assert_close(gram, gram.transpose(1, 2))


def test_it_makes_positive_semidefinite_gram_matrices():
    eigenvalues = torch.linalg.eigvalsh(gram_matrix(_features(1)).double())
    assert eigenvalues.min() > -1e-6


def test_it_normalises_the_gram_matrix_by_size():
    features = _features(2)
    tiled = features.repeat(1, 1, 3, 2)  # the same texture over six times the area
    torch.testing.assert_close(gram_matrix(tiled), gram_matrix(features))


def test_it_gives_adain_output_the_target_mean_and_std():
    content, style = _features(3), _features(4) * 3.0 + 2.0
    style_mean, style_std = mean_std(style)
    out_mean, out_std = mean_std(adain(content, style_mean, style_std))
    torch.testing.assert_close(out_mean, style_mean, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out_std, style_std, atol=1e-4, rtol=1e-4)


def _mid_range_image(seed: int) -> torch.Tensor:
    # Away from 0 and 1, so the final clamp does not touch the colour channels being compared.
    return 0.3 + 0.4 * torch.rand(1, 3, 24, 20, generator=torch.Generator().manual_seed(seed))


def test_it_keeps_the_content_chroma_when_preserving_color():
    content, stylized = _mid_range_image(5), _mid_range_image(6)
    out = preserve_color(content, stylized)
    torch.testing.assert_close(rgb_to_yiq(out)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=2e-3, rtol=0)


def test_it_keeps_the_stylized_luminance_structure_when_preserving_color():
    content, stylized = _mid_range_image(7), _mid_range_image(8)
    y_out = rgb_to_yiq(preserve_color(content, stylized))[0, 0].flatten()
    y_stylized = rgb_to_yiq(stylized)[0, 0].flatten()
    y_content = rgb_to_yiq(content)[0, 0].flatten()
    assert torch.corrcoef(torch.stack([y_out, y_stylized]))[0, 1] > 0.99
    assert torch.corrcoef(torch.stack([y_out, y_content]))[0, 1] < 0.5


@pytest.mark.parametrize("size", [(37, 53), (5, 7), (64, 64), (1, 31)])
@pytest.mark.parametrize("margin", [0, 16])
def test_it_round_trips_padding_for_any_size(size, margin):
    image = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(9))
    padded, box = pad_for_network(image, multiple=4, margin=margin)
    assert padded.shape[-2] % 4 == 0 and padded.shape[-1] % 4 == 0
    assert torch.equal(crop_box(padded, box), image)
