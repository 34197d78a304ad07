"""The arbitrary-style network: any painting in one forward pass (AdaIN, Huang & Belongie, ICCV 2017).

    content ─ VGG16 up to relu3_1 (frozen) ─┐
                                            AdaIN: the style's per-channel mean/std (blended over several styles)
    style ─── VGG16 up to relu3_1 (frozen) ─┘  └─ mixed with the content features by ``strength`` ─ decoder ─ image

The paper encodes to relu4_1 with a full mirrored VGG decoder. Here the encoder stops at relu3_1 (the frozen VGG16
convs 1_1..3_1, ~118 GMAC at 1024² instead of ~210) and the decoder is depthwise-separable, to fit a 2-core CPU.
A first attempt with a small *learned* encoder (MicroAST-style) collapsed: after 500 steps every painting gave the
same output, because nothing forced the learned features' statistics to carry style. A frozen VGG encoder carries it
by construction. The encoder's weights are saved with the decoder's, so inference needs no separate backbone file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..backbones import VGGFeatures, vgg16_trunk
from ..ops import mean_std

ENCODER_LAYER = "relu3_1"


@dataclass(frozen=True)
class ArbitraryConfig:
    width: int = 64     # decoder channels at 1/2 resolution (1/4 resolution has 2x, full resolution 1/2x)

    def to_dict(self) -> dict:
        return asdict(self)


def _separable(cin: int, cout: int) -> nn.Sequential:
    """3x3 depthwise + 1x1 pointwise: ~8x cheaper than a full 3x3 conv at these widths."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, 1, 1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1))


class Encoder(nn.Module):
    """RGB 0-1 (N, 3, H, W) -> VGG16 relu3_1 (N, 256, H/4, W/4). Frozen."""

    def __init__(self):
        super().__init__()
        self.vgg: VGGFeatures = vgg16_trunk("3_1")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vgg(x, (ENCODER_LAYER,))[ENCODER_LAYER]


class Decoder(nn.Module):
    """relu3_1 features (N, 256, H/4, W/4) -> RGB 0-1 (N, 3, H, W); nearest upsampling + conv (no checkerboard)."""

    def __init__(self, width: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(256, width * 2, 3, 1, 1), nn.ReLU(inplace=True),
            _separable(width * 2, width * 2), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _separable(width * 2, width), nn.ReLU(inplace=True),
            _separable(width, width), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _separable(width, width // 2), nn.ReLU(inplace=True),
            nn.Conv2d(width // 2, 3, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.layers(x))


class ArbitraryStyleNet(nn.Module):
    """``forward(content, style_mean, style_std, strength)``: content (N, 3, H, W) 0-1, H and W multiples of 4;
    style_mean/style_std (N, 256, 1, 1) from :meth:`style_code`; strength (N, 1, 1, 1) in 0-1. Returns (N, 3, H, W).
    """

    multiple = 4

    def __init__(self, config: ArbitraryConfig = ArbitraryConfig()):
        super().__init__()
        self.config = config
        self.encoder = Encoder()
        self.decoder = Decoder(config.width)

    def load_encoder(self, backbone: VGGFeatures) -> None:
        """Copy the frozen VGG16 convs from the loss network's backbone."""
        own = self.encoder.vgg.state_dict()
        self.encoder.vgg.load_state_dict({k: v for k, v in backbone.state_dict().items() if k in own})
        self.encoder.requires_grad_(False)

    def style_code(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Style image (N, 3, h, w) 0-1 -> per-channel (mean, std), each (N, 256, 1, 1)."""
        return mean_std(self.encoder(style))

    def transform(self, content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor,
                  strength: torch.Tensor, content_stats: tuple[torch.Tensor, torch.Tensor] | None = None
                  ) -> torch.Tensor:
        """The target features t (N, 256, H/4, W/4) that the decoder turns into an image.

        ``content_stats`` replaces the content's own feature statistics: tiles of a large image pass the statistics
        of its thumbnail so that every tile is transformed alike (URST, Chen et al. 2022).
        """
        features = self.encoder(content)
        mean, std = mean_std(features) if content_stats is None else content_stats
        stylized = (features - mean) / std * style_std + style_mean
        # AdaIN's alpha (sec. 7): interpolate in feature space, so strength 0 decodes the content's own features.
        return strength * stylized + (1.0 - strength) * features

    def forward(self, content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor,
                strength: torch.Tensor, content_stats: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> torch.Tensor:
        return self.decoder(self.transform(content, style_mean, style_std, strength, content_stats))
