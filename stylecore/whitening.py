"""The arbitrary method's feature transform: whitening and colouring (WCT; Li et al., NeurIPS 2017), in numpy.

AdaIN matches each feature channel's mean and std to the painting's; WCT matches the whole covariance, so the
correlations between channels (the painting's Gram matrix, which is what style distance measures) carry over too.
With the decoder trained on it, it took the held-out Gram distance from 0.213 to 0.149 (against AdaIN's mean/std
matching). The eigendecompositions run here, on (C, C) matrices (256 x 256), not in the ONNX graphs, which
only apply the resulting matrix; the training loop uses the same functions, so the network learns to decode exactly
what inference feeds it.

Shapes: features (C, H, W) or (1, C, H, W) float32; a style code is (mean (C,), colouring matrix (C, C)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Statistics come from at most about this many feature positions (a regular subsample): at 1024² the photo has
# ~70 k of them at 1/4 resolution, and the full covariance took 0.06 s of a ~1 s render for no visible difference.
_MAX_POSITIONS = 16_384
# Eigenvalues below this share of the largest are treated as zero: whitening would otherwise blow up directions the
# image barely uses (dead ReLU channels, flat regions) into noise.
_RELATIVE_FLOOR = 1e-5


def feature_stats(*features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean (C,) and the (C, C) covariance of one image's features, given whole or as the features of
    its tiles, in float64."""
    c = features[0].shape[-3]
    stride = max(1, int((sum(f.shape[-2] * f.shape[-1] for f in features) / _MAX_POSITIONS) ** 0.5))
    flat = np.concatenate([f.reshape(c, *f.shape[-2:])[:, ::stride, ::stride].reshape(c, -1) for f in features],
                          axis=1).astype(np.float32, copy=False)  # tiles' features wait in float16
    mean = flat.mean(axis=1, dtype=np.float64)
    centred = flat - mean[:, None].astype(flat.dtype)
    cov = (centred @ centred.T).astype(np.float64) / flat.shape[1]
    return mean, cov


def _power(cov: np.ndarray, exponent: float) -> np.ndarray:
    """cov ** exponent for a symmetric positive semi-definite matrix; near-zero eigenvalues map to 0."""
    values, vectors = np.linalg.eigh(cov)
    keep = values > _RELATIVE_FLOOR * max(values.max(), 1e-12)
    scaled = np.zeros_like(values)
    scaled[keep] = values[keep] ** exponent
    return (vectors * scaled) @ vectors.T


def style_code(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A painting's (mean, colouring matrix = covariance ** 1/2) from its encoder features."""
    mean, cov = feature_stats(features)
    return mean, _power(cov, 0.5)


def blend(codes: Sequence[tuple[np.ndarray, np.ndarray]], weights: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """A convex combination of style codes (``weights`` sum to 1): colouring with it is the same blend of the
    styles' colourings of the whitened photo."""
    mean = sum(w * m for w, (m, _) in zip(weights, codes))
    colouring = sum(w * c for w, (_, c) in zip(weights, codes))
    return mean, colouring


def transform(content: tuple[np.ndarray, np.ndarray], style: tuple[np.ndarray, np.ndarray],
              strength: float) -> tuple[np.ndarray, np.ndarray]:
    """The affine map t = A f + b, per pixel, that the decoder graph applies to the photo's features.

    ``content`` is the photo's (mean, covariance), ``style`` a (blended) style code. At full strength
    t = colouring @ whitening @ (f - content mean) + style mean, so t has the style's mean and covariance; ``strength``
    interpolates in feature space (AdaIN's alpha): t = strength * wct(f) + (1 - strength) * f, so 0 decodes the photo's
    own features. Returns A (C, C) and b (C,), float32.
    """
    c_mean, c_cov = content
    s_mean, colouring = style
    full = colouring @ _power(c_cov, -0.5)
    a = strength * full + (1.0 - strength) * np.eye(len(c_mean))
    b = strength * (s_mean - full @ c_mean)
    return a.astype(np.float32), b.astype(np.float32)

