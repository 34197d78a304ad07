"""The any-style network: MicroAST (Wang et al., "MicroAST: Towards Super-Fast Ultra-Resolution Arbitrary Style
Transfer", AAAI 2023; github.com/EndyWon/MicroAST, MIT).

    photo ──── content encoder ── c (64, H/4, W/4) ─ AdaIN(s1) ─ dec1 (modulated by w2, b2) ─ h ─ AdaIN(s0) ─┐
    painting ─ style encoder ── s0, s1 (64, h/4, w/4) ── mean/std of s0, s1; modulator: w1, b1, w2, b2 ──────┘
                                                                          dec2 (modulated by w1, b1) ─ dec3 ─ image

Two small encoders (a 9x9 conv, two strided depthwise-separable convs, a residual block; the second level one more
residual block) replace VGG; the decoder mirrors them. The style enters twice: as AdaIN statistics (sec. 3.2,
"dual-modulation": feature modulation) and as per-channel weights and biases that the modulator pools from the
style features and multiplies into the decoder's residual blocks (filter modulation). Every conv pads by reflection.

The whole painting is summed up in a *style code* (:func:`style_code`): 8 vectors of 64. The photo's statistics (the
mean and std of ``c`` and of ``h``) are the network's only other non-local quantities; the engine computes them in
numpy between the graphs, so that a photo cut in tiles uses the whole photo's statistics (arbitrary.py). Strength
is not the paper's alpha: the engine blends the full-strength result toward the photo (docs/engine.md).

The parameter names follow the published state dicts (``enc1.0.conv_layer.weight``, ...), which load with
``strict=True``: :func:`load_published`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

CHANNELS = 64
SCALE = 4  # the encoders' features are at 1/4 of the image's resolution; image sides must be multiples of 4
CODE_ROWS = 8  # style code rows: mean1, std1, weight2, bias2, mean0, std0, weight1, bias1 (each (CHANNELS,))
EPS = 1e-5  # added to the variance before its square root, as the published network was trained
PARTS = ("content_encoder", "style_encoder", "modulator", "decoder")
PUBLISHED_FILES = {part: f"{part}_iter_160000.pth.tar" for part in PARTS}


class PaddedConv(nn.Module):
    """Reflection padding of kernel // 2, then a conv (``groups`` > 1: depthwise)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv_layer = nn.Conv2d(cin, cout, kernel, stride, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_layer(self.pad(x))


class ResidualBlock(nn.Module):
    """Two 3x3 convs around a ReLU, added to the input. With a filter modulation (weight, bias: (N, C, 1, 1)) each
    conv's output becomes ``weight * conv(x) + bias * x`` (MicroAST sec. 3.2)."""

    def __init__(self, channels: int = CHANNELS):
        super().__init__()
        self.conv1 = PaddedConv(channels, channels, 3)
        self.conv2 = PaddedConv(channels, channels, 3)

    def forward(self, x: torch.Tensor, weight: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        if weight is None:
            return x + self.conv2(torch.relu(self.conv1(x)))
        y = torch.relu(weight * self.conv1(x) + bias * x)
        return x + weight * self.conv2(y) + bias * y


class Encoder(nn.Module):
    """RGB 0-1 (N, 3, H, W) -> two levels of features, both (N, 64, H/4, W/4) (H, W multiples of 4)."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(
            PaddedConv(3, 16, 9), nn.ReLU(),
            PaddedConv(16, 32, 3, 2, groups=16), nn.ReLU(),
            PaddedConv(32, 32, 1), nn.ReLU(),
            PaddedConv(32, 64, 3, 2, groups=32), nn.ReLU(),
            PaddedConv(64, 64, 1), nn.ReLU(),
            ResidualBlock(),
        )
        self.enc2 = nn.Sequential(ResidualBlock())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        first = self.enc1(x)
        return first, self.enc2(first)


class Modulator(nn.Module):
    """Style features (two levels (N, 64, h, w)) -> filter weights and biases (N, 64, 1, 1): a depthwise 3x3 conv,
    averaged over the image, per level."""

    def __init__(self):
        super().__init__()
        for name in ("weight1", "bias1", "weight2", "bias2"):
            setattr(self, name, nn.Sequential(PaddedConv(CHANNELS, CHANNELS, 3, groups=CHANNELS),
                                              nn.AdaptiveAvgPool2d(1)))

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """-> (weight1, bias1) from the first level, (weight2, bias2) from the second."""
        return self.weight1(first), self.bias1(first), self.weight2(second), self.bias2(second)


class Decoder(nn.Module):
    """dec1 and dec2: modulated residual blocks at 1/4 resolution; dec3: bilinear x2, separable conv, twice, then a
    9x9 conv to RGB (unbounded; the engine clips to 0-1)."""

    def __init__(self):
        super().__init__()
        self.dec1 = ResidualBlock()
        self.dec2 = ResidualBlock()
        self.dec3 = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear"),
            PaddedConv(64, 32, 3, groups=32), nn.ReLU(),
            PaddedConv(32, 32, 1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="bilinear"),
            PaddedConv(32, 16, 3, groups=16), nn.ReLU(),
            PaddedConv(16, 16, 1), nn.ReLU(),
            PaddedConv(16, 3, 9),
        )


def mean_std(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) -> per-channel mean and std (N, C), the std from the unbiased variance plus :data:`EPS`."""
    flat = features.flatten(2)
    return flat.mean(2), (flat.var(2) + EPS).sqrt()


def adain(features: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, target_mean: torch.Tensor,
          target_std: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) whose channels have ``mean``/``std`` (N, C) -> the same with ``target_mean``/``target_std``."""
    def column(v: torch.Tensor) -> torch.Tensor:
        return v[:, :, None, None]

    return (features - column(mean)) / column(std) * column(target_std) + column(target_mean)


class MicroAST(nn.Module):
    """The four published parts, and the three stages the engine runs between its statistics (each an ONNX graph,
    export.py): :meth:`style_code`, :meth:`modulate` and :meth:`decode`; ``content_encoder`` gives the features."""

    def __init__(self):
        super().__init__()
        self.content_encoder = Encoder()
        self.style_encoder = Encoder()
        self.modulator = Modulator()
        self.decoder = Decoder()

    def encode(self, photo: torch.Tensor) -> torch.Tensor:
        """RGB 0-1 (N, 3, H, W) -> the photo's features c (N, 64, H/4, W/4); the decoder uses the second level only."""
        return self.content_encoder(photo)[1]

    def style_code(self, painting: torch.Tensor) -> torch.Tensor:
        """RGB 0-1 (N, 3, h, w) -> the style code (N, 8, 64): see :data:`CODE_ROWS`."""
        first, second = self.style_encoder(painting)
        weight1, bias1, weight2, bias2 = (v.flatten(1) for v in self.modulator(first, second))
        (mean0, std0), (mean1, std1) = mean_std(first), mean_std(second)
        return torch.stack([mean1, std1, weight2, bias2, mean0, std0, weight1, bias1], dim=1)

    def modulate(self, features: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
                 code: torch.Tensor) -> torch.Tensor:
        """The photo's features c (N, 64, h, w) with their statistics (N, 64) -> the hidden features after dec1."""
        weight, bias = code[:, 2, :, None, None], code[:, 3, :, None, None]
        return self.decoder.dec1(adain(features, mean, std, code[:, 0], code[:, 1]), weight, bias)

    def decode(self, hidden: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Hidden features (N, 64, h, w) with their statistics (N, 64) -> RGB (N, 3, 4h, 4w), about 0-1."""
        weight, bias = code[:, 6, :, None, None], code[:, 7, :, None, None]
        x = self.decoder.dec2(adain(hidden, mean, std, code[:, 4], code[:, 5]), weight, bias)
        return self.decoder.dec3(x)

    def forward(self, photo: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Photos (N, 3, H, W) in the styles ``code`` (N, 8, 64), every statistic from each photo as a whole."""
        features = self.encode(photo)
        hidden = self.modulate(features, *mean_std(features), code)
        return self.decode(hidden, *mean_std(hidden), code)

    def part_state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """The four parts' state dicts, keyed as the published files (:data:`PARTS`)."""
        return {part: getattr(self, part).state_dict() for part in PARTS}


def load_published(folder: Path) -> MicroAST:
    """The network from the authors' four files in ``folder`` (:data:`PUBLISHED_FILES`), each loaded strictly."""
    net = MicroAST()
    for part, file in PUBLISHED_FILES.items():
        getattr(net, part).load_state_dict(torch.load(folder / file, map_location="cpu", weights_only=True))
    return net
