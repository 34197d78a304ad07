import numpy as np
import pytest

from stylecore.whitening import blend, feature_stats, style_code, transform


def _features(seed: int, channels: int = 6, size: int = 20, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """Correlated features (1, C, H, W): random mixing of independent noise, so the covariance is full and not
    diagonal."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(channels, channels))
    noise = rng.normal(size=(channels, size * size))
    return ((mixing @ noise) * scale + shift).reshape(1, channels, size, size).astype(np.float32)


def _apply(features: np.ndarray, matrix: np.ndarray, bias: np.ndarray) -> np.ndarray:
    c = features.shape[1]
    return (matrix @ features.reshape(c, -1) + bias[:, None]).reshape(features.shape)


def test_it_gives_the_output_the_style_mean_std_and_covariance():
    content, style = _features(0), _features(1, scale=3.0, shift=2.0)
    out = _apply(content, *transform(feature_stats(content), style_code(style), 1.0))
    (mean, cov), (s_mean, s_cov) = feature_stats(out), feature_stats(style)
    np.testing.assert_allclose(mean, s_mean, atol=1e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), np.sqrt(np.diag(s_cov)), rtol=1e-3)
    np.testing.assert_allclose(cov, s_cov, atol=1e-2 * np.abs(s_cov).max())
    assert np.abs(cov - np.diag(np.diag(cov))).max() > 0.1  # the correlations carried over, not just the variances


def test_it_is_the_identity_at_strength_zero():
    content = _features(2)
    matrix, bias = transform(feature_stats(content), style_code(_features(3, scale=5.0)), 0.0)
    np.testing.assert_allclose(_apply(content, matrix, bias), content, atol=1e-5)


def test_it_interpolates_in_feature_space_with_strength():
    content, style = _features(4), _features(5, scale=2.0, shift=-1.0)
    stats, code = feature_stats(content), style_code(style)
    full = _apply(content, *transform(stats, code, 1.0))
    half = _apply(content, *transform(stats, code, 0.5))
    np.testing.assert_allclose(half, 0.5 * full + 0.5 * content, atol=1e-4)


def test_it_blends_style_codes_with_their_weights():
    a, b = style_code(_features(6)), style_code(_features(7, scale=4.0, shift=3.0))
    one_hot = blend([a, b], [1.0, 0.0])
    np.testing.assert_allclose(one_hot[0], a[0])
    np.testing.assert_allclose(one_hot[1], a[1])
    mixed_mean, _ = blend([a, b], [0.25, 0.75])
    np.testing.assert_allclose(mixed_mean, 0.25 * a[0] + 0.75 * b[0])


@pytest.mark.parametrize("dead_channels", [1, 3])
def test_it_stays_finite_when_channels_are_dead(dead_channels):
    # ReLU features often have all-zero channels: their covariance is singular and must not be inverted blindly.
    content = _features(8)
    content[:, :dead_channels] = 0.0
    style = _features(9)
    style[:, -dead_channels:] = 0.0
    out = _apply(content, *transform(feature_stats(content), style_code(style), 1.0))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(feature_stats(out)[0], feature_stats(style)[0], atol=1e-3)
    assert np.abs(out).max() < 10 * np.abs(style).max()


def test_it_takes_an_images_statistics_from_its_tiles():
    features = _features(10, size=40)
    top, bottom = features[..., :24, :], features[..., 24:, :]
    for whole, tiled in zip(feature_stats(features), feature_stats(top, bottom.astype(np.float16))):
        np.testing.assert_allclose(tiled, whole, rtol=1e-2, atol=1e-2 * np.abs(whole).max())
