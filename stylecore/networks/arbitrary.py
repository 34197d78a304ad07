"""The arbitrary-style network: any painting in one forward pass (AdaIN, Huang & Belongie, ICCV 2017).

    content ─ VGG16 up to relu3_1 (frozen) ─┐
                                            AdaIN: the style's per-channel mean/std (blended over several styles)
    style ─── VGG16 up to relu3_1 (frozen) ─┘  └─ mixed with the content features by ``strength`` ─ decoder ─ image

The paper encodes to relu4_1 with a full mirrored VGG decoder. Here the encoder stops at relu3_1 and the decoder is
depthwise-separable, to fit a 2-core CPU. The encoder is VGG16's convs 1_1..3_1 with the two widest, conv1_2 (full
resolution, 64->64) and conv2_2 (half resolution, 128->128), replaced by depthwise-separable convs *distilled* from
them (Wang et al., CVPR 2020, in spirit): initialised with a rank-1-per-input-channel factorisation of VGG's kernels
(:func:`separable_from_dense`), then trained to reproduce VGG's relu1_2, relu2_2 and relu3_1. That takes the encoder
from ~118 to ~50 GMAC at 1024². A first attempt with a small encoder learned from scratch (MicroAST-style) collapsed:
after 500 steps every painting gave the same output, because nothing forced its features' statistics to carry
style. Distilling from VGG keeps that property. The encoder's weights are saved with the decoder's, so inference needs
no separate backbone file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..backbones import VGGFeatures, vgg16_trunk
from ..ops import adain, mean_std

ENCODER_LAYER = "relu3_1"


@dataclass(frozen=True)
class ArbitraryConfig:
    width: int = 64     # decoder channels at 1/2 resolution (1/4 resolution has 2x, full resolution 1/2x)

    def to_dict(self) -> dict:
        return asdict(self)


THIN_CONVS = ("conv1_2", "conv2_2")  # VGG convs the encoder replaces by distilled separable ones
DISTILL_LAYERS = ("relu1_2", "relu2_2", "relu3_1")


def _separable(cin: int, cout: int) -> nn.Sequential:
    """3x3 depthwise + 1x1 pointwise: ~8x cheaper than a full 3x3 conv at these widths."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, 1, 1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1))


def separable_from_dense(conv: nn.Conv2d) -> nn.Sequential:
    """The separable conv closest to a dense 3x3 ``conv`` with one spatial kernel per input channel.

    For input channel i the dense kernel is an (out, 9) matrix; its best rank-1 approximation (SVD) gives the depthwise
    kernel (the right singular vector) and the pointwise column (the left one), each scaled by sqrt(sigma).
    """
    cout, cin = conv.weight.shape[:2]
    separable = _separable(cin, cout)
    with torch.no_grad():
        per_input = conv.weight.permute(1, 0, 2, 3).reshape(cin, cout, 9)
        u, sigma, vh = torch.linalg.svd(per_input, full_matrices=False)
        root = sigma[:, :1].sqrt()
        separable[0].weight.copy_((vh[:, 0, :] * root).reshape(cin, 1, 3, 3))
        separable[1].weight.copy_((u[:, :, 0] * root).T.reshape(cout, cin, 1, 1))
        separable[1].bias.copy_(conv.bias)
    return separable


class Encoder(nn.Module):
    """RGB 0-1 (N, 3, H, W) -> relu3_1 (N, 256, H/4, W/4) of VGG16 with :data:`THIN_CONVS` made separable."""

    def __init__(self):
        super().__init__()
        self.vgg: VGGFeatures = vgg16_trunk("3_1")
        for index, name in enumerate(self.vgg.names):
            if name in THIN_CONVS:
                conv = self.vgg.layers[index]
                self.vgg.layers[index] = _separable(conv.in_channels, conv.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vgg(x, (ENCODER_LAYER,))[ENCODER_LAYER]

    def features(self, x: torch.Tensor, layers: tuple[str, ...] = DISTILL_LAYERS) -> dict[str, torch.Tensor]:
        return self.vgg(x, layers)

    def init_from(self, backbone: VGGFeatures) -> None:
        """Copy VGG16's convs; the thin ones start as their separable factorisation (then get distilled)."""
        teacher = dict(zip(backbone.names, backbone.layers))
        for index, name in enumerate(self.vgg.names):
            if name in THIN_CONVS:
                self.vgg.layers[index] = separable_from_dense(teacher[name])
            elif name.startswith("conv"):
                self.vgg.layers[index].load_state_dict(teacher[name].state_dict())


class Decoder(nn.Module):
    """relu3_1 features (N, 256, H/4, W/4) -> RGB 0-1 (N, 3, H, W); nearest upsampling + conv (no checkerboard)."""

    def __init__(self, width: int):
        super().__init__()
        self.layers = nn.Sequential(
            _separable(256, width * 2), nn.ReLU(inplace=True),
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
        """Start the encoder from the loss network's VGG16 (see :meth:`Encoder.init_from`)."""
        self.encoder.init_from(backbone)

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
        stylized = adain(features, style_mean, style_std, content_stats)
        # AdaIN's alpha (sec. 7): interpolate in feature space, so strength 0 decodes the content's own features.
        return strength * stylized + (1.0 - strength) * features

    def forward(self, content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor,
                strength: torch.Tensor, content_stats: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> torch.Tensor:
        return self.decoder(self.transform(content, style_mean, style_std, strength, content_stats))
