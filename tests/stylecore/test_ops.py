import torch

from stylecore.ops import gram_matrix


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
