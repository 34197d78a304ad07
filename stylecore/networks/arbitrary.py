"""The arbitrary-style network: any painting in one forward pass, light enough for a 2-core CPU.

AdaIN (Huang & Belongie, ICCV 2017) moves the content features' per-channel mean and std onto the style's. The paper
does this on VGG relu4_1 and decodes with a mirrored VGG; that encoder alone costs ~210 GMAC at 1024², about 3 s
here. Following MicroAST (Wang et al., AAAI 2023) the encoder and decoder here are small networks trained end to end
through a *VGG loss*, so VGG is needed for training only:

    content ─ encoder ─┐
                       AdaIN (mean/std of the style features, optionally blended over several styles)
    style ── encoder ──┘  └─ mix with the content features by ``strength`` ─ decoder ─ image

The style is encoded at its own size (``style_scale``), which sets the size of its brush strokes in the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..ops import mean_std


@dataclass(frozen=True)
class ArbitraryConfig:
    width: int = 32     # channels at 1/2 resolution; the AdaIN bottleneck at 1/4 has width*4

    def to_dict(self) -> dict:
        return asdict(self)


def _separable(cin: int, cout: int) -> nn.Sequential:
    """3x3 depthwise + 1x1 pointwise: ~8x cheaper than a full 3x3 conv at these widths."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, 1, 1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1))


class Encoder(nn.Module):
    """RGB 0-1 (N, 3, H, W) -> features (N, 4*width, H/4, W/4). No normalisation: AdaIN needs the raw statistics."""

    def __init__(self, width: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, width, 3, 2, 1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width * 2, 3, 2, 1), nn.ReLU(inplace=True),
            _separable(width * 2, width * 4), nn.ReLU(inplace=True),
            _separable(width * 4, width * 4), nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Decoder(nn.Module):
    """Features (N, 4*width, H/4, W/4) -> RGB 0-1 (N, 3, H, W); nearest upsampling + conv (no checkerboard)."""

    def __init__(self, width: int):
        super().__init__()
        self.layers = nn.Sequential(
            _separable(width * 4, width * 4), nn.ReLU(inplace=True),
            _separable(width * 4, width * 2), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _separable(width * 2, width), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _separable(width, width // 2), nn.ReLU(inplace=True),
            nn.Conv2d(width // 2, 3, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.layers(x))


class ArbitraryStyleNet(nn.Module):
    """``forward(content, style_mean, style_std, strength)``: content (N, 3, H, W) 0-1, H and W multiples of 4;
    style_mean/style_std (N, C, 1, 1) from :meth:`style_code`; strength (N, 1, 1, 1) in 0-1. Returns (N, 3, H, W).
    """

    multiple = 4

    def __init__(self, config: ArbitraryConfig = ArbitraryConfig()):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.width)
        self.decoder = Decoder(config.width)

    def style_code(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Style image (N, 3, h, w) 0-1 -> per-channel (mean, std), each (N, C, 1, 1)."""
        return mean_std(self.encoder(style))

    def forward(self, content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor,
                strength: torch.Tensor, content_stats: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> torch.Tensor:
        """``content_stats`` replaces the content's own feature statistics: tiles of a large image pass the
        statistics of its thumbnail so that every tile is transformed alike (URST, Chen et al. 2022)."""
        features = self.encoder(content)
        mean, std = mean_std(features) if content_stats is None else content_stats
        stylized = (features - mean) / std * style_std + style_mean
        # AdaIN's alpha (sec. 7): interpolate in feature space, so strength 0 decodes the content's own features.
        return self.decoder(strength * stylized + (1.0 - strength) * features)
