import torch

from stylecore.ops import adain, gram_matrix, mean_std


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
