"""The arbitrary-style network: any painting in one forward pass (AdaIN, Huang & Belongie, ICCV 2017, with WCT).

    photo ──── encoder: VGG16 up to relu3_1 ── f ─┐
                                                  t = A f + b per pixel (A, b from whitening.py: whitening and
    painting ─ encoder ── mean, covariance ───────┘  colouring, blended over styles, mixed by strength) ─ decoder ─ image

The paper encodes to relu4_1 with a full mirrored VGG decoder and matches per-channel mean and std (AdaIN). Here the
encoder stops at relu3_1 and the decoder is depthwise-separable, to fit a 2-core CPU, and the transform matches the
painting's full feature covariance (WCT, Li et al., NeurIPS 2017), computed outside the network so that the ONNX
graphs only apply a matrix. The encoder is VGG16's convs 1_1..3_1 with conv1_2 (full resolution, 64->64) and conv2_2
(half resolution, 128->128) replaced by depthwise-separable convs *distilled* from them (Wang et al., CVPR 2020, in
spirit): initialised with a low-rank-per-input-channel factorisation of VGG's kernels (:func:`separable_from_dense`),
then trained to reproduce VGG's relu1_2, relu2_2 and relu3_1. That takes the encoder from ~118 to ~50 GMAC at 1024².
A small encoder learned from scratch does not work: nothing forces its features' statistics to carry style, and
every painting ends up giving the same output; distilling from VGG keeps that property. The encoder's weights are
saved with the decoder's, so inference needs no separate backbone file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..backbones import VGGFeatures, vgg16_trunk
from ..errors import CheckpointError, InvalidOptionError

ENCODER_LAYER = "relu3_1"
UPSAMPLING_MODES = ("nearest", "bilinear")
# Options of networks that were never shipped, removed from the code, with the value that turns each off. Released
# metadata may still name them at that value (weights/arbitrary/arbitrary.pt.json does).
RETIRED_OPTIONS = {"fold_transform": False, "pointwise_first": False, "balance": False}


@dataclass(frozen=True)
class ArbitraryConfig:
    width: int = 64     # decoder channels at 1/2 resolution (1/4 resolution has 2x, full resolution 1/2x)
    blocks: int = 2     # residual blocks at 1/4 resolution, the decoder's cheapest place for capacity
    content_skip: bool = True  # the decoder also reads the photo's own features f, not only t (Decoder)
    # VGG convs the encoder replaces by distilled separable ones, with the rank of each (depthwise kernels per input
    # channel).
    thin_convs: dict[str, int] = field(default_factory=lambda: {"conv1_2": 1, "conv2_2": 1})
    # How the decoder doubles its resolution (its two stages and the coarse path). "nearest" leaves a faint grid with
    # the features' 4 px period in flat regions; "bilinear" does not.
    upsampling: str = "bilinear"

    def __post_init__(self):
        if self.upsampling not in UPSAMPLING_MODES:
            raise InvalidOptionError(f"upsampling must be one of {', '.join(UPSAMPLING_MODES)}, not {self.upsampling!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict) -> "ArbitraryConfig":
        """The config of released or checkpointed metadata (``"network"``, or a run's ``"net"``): retired options
        are accepted at their "off" value and ignored; a network that needs one raises CheckpointError."""
        needed = {k: v for k, v in saved.items() if k in RETIRED_OPTIONS and v != RETIRED_OPTIONS[k]}
        if needed:
            raise CheckpointError(f"this any-style network needs {', '.join(sorted(needed))}, which the engine no "
                                  f"longer has (it was never shipped; git history has it)")
        try:
            return cls(**{k: v for k, v in saved.items() if k not in RETIRED_OPTIONS})
        except TypeError as exc:
            raise CheckpointError(f"the any-style network's config is not this engine's ({exc})") from exc


DISTILL_LAYERS = ("relu1_2", "relu2_2", "relu3_1")


def _separable(cin: int, cout: int, rank: int = 1) -> nn.Sequential:
    """``rank`` 3x3 depthwise kernels per input channel + a 1x1 pointwise conv: at rank 1 ~8x cheaper than a full 3x3
    conv at these widths."""
    return nn.Sequential(nn.Conv2d(cin, cin * rank, 3, 1, 1, groups=cin, bias=False), nn.Conv2d(cin * rank, cout, 1))


def separable_from_dense(conv: nn.Conv2d, rank: int = 1) -> nn.Sequential:
    """The separable conv closest to a dense 3x3 ``conv`` with ``rank`` spatial kernels per input channel.

    For input channel i the dense kernel is an (out, 9) matrix; its best rank-``rank`` approximation (SVD) gives the
    depthwise kernels (the right singular vectors) and the pointwise columns (the left ones), each scaled by
    sqrt(sigma).
    """
    cout, cin = conv.weight.shape[:2]
    separable = _separable(cin, cout, rank)
    with torch.no_grad():
        per_input = conv.weight.permute(1, 0, 2, 3).reshape(cin, cout, 9)
        u, sigma, vh = torch.linalg.svd(per_input, full_matrices=False)
        root = sigma[:, :rank].sqrt()  # (cin, rank)
        # Depthwise output channel i * rank + j is input channel i's j-th kernel (grouped conv layout).
        separable[0].weight.copy_((vh[:, :rank, :] * root[:, :, None]).reshape(cin * rank, 1, 3, 3))
        pointwise = u[:, :, :rank] * root[:, None, :]  # (cin, cout, rank)
        separable[1].weight.copy_(pointwise.permute(1, 0, 2).reshape(cout, cin * rank, 1, 1))
        separable[1].bias.copy_(conv.bias)
    return separable


class Encoder(nn.Module):
    """RGB 0-1 (N, 3, H, W) -> relu3_1 (N, 256, H/4, W/4) of VGG16 with ``thin_convs`` (name -> rank) made separable."""

    def __init__(self, thin_convs: dict[str, int]):
        super().__init__()
        self.thin_convs = dict(thin_convs)
        self.vgg: VGGFeatures = vgg16_trunk("3_1")
        unknown = set(self.thin_convs) - set(self.vgg.names)
        if unknown:
            raise ValueError(f"the encoder has no {sorted(unknown)} to make thin")
        for index, name in enumerate(self.vgg.names):
            if name in self.thin_convs:
                conv = self.vgg.layers[index]
                self.vgg.layers[index] = _separable(conv.in_channels, conv.out_channels, self.thin_convs[name])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vgg(x, (ENCODER_LAYER,))[ENCODER_LAYER]

    def features(self, x: torch.Tensor, layers: tuple[str, ...] = DISTILL_LAYERS) -> dict[str, torch.Tensor]:
        return self.vgg(x, layers)

    def init_from(self, backbone: VGGFeatures) -> None:
        """Copy VGG16's convs; the thin ones start as their separable factorisation (then get distilled)."""
        teacher = dict(zip(backbone.names, backbone.layers))
        for index, name in enumerate(self.vgg.names):
            if name in self.thin_convs:
                self.vgg.layers[index] = separable_from_dense(teacher[name], self.thin_convs[name])
            elif name.startswith("conv"):
                self.vgg.layers[index].load_state_dict(teacher[name].state_dict())


def _upsampling(cin: int, cout: int, mode: str) -> list[nn.Module]:
    """Two layers that double the resolution (``mode``) and go from ``cin`` to ``cout`` channels: the upsampling,
    then a separable conv at the new resolution (no transposed conv, hence no checkerboard; Odena et al., 2016)."""
    return [nn.Upsample(scale_factor=2, mode=mode), _separable(cin, cout)]


def _dilated(channels: int, dilation: int) -> nn.Sequential:
    """A separable conv whose 3x3 depthwise kernel is spread ``dilation`` px apart: more reach for the same cost."""
    return nn.Sequential(nn.Conv2d(channels, channels, 3, 1, dilation, dilation=dilation, groups=channels, bias=False),
                         nn.Conv2d(channels, channels, 1))


def _coarse_path(channels: int, mode: str) -> nn.Sequential:
    """1/4 -> 1/8 resolution, four separable convs (two dilated), back up: ~100 px of reach at full resolution, for
    the painting's larger forms (relu4_3 sees ~200 px; the trunk ~50 px). The last conv starts at zero, so a decoder
    without the path can be extended with it without changing its output."""
    path = nn.Sequential(
        nn.AvgPool2d(2), _separable(channels, channels), nn.ReLU(inplace=True), _dilated(channels, 2),
        nn.ReLU(inplace=True), _dilated(channels, 2), nn.ReLU(inplace=True), _separable(channels, channels),
        nn.Upsample(scale_factor=2, mode=mode))
    nn.init.zeros_(path[7][1].weight)
    nn.init.zeros_(path[7][1].bias)
    return path


def _residual_block(channels: int) -> nn.Sequential:
    """Two separable convs; the last starts at zero, so a new block is the identity and an earlier release's
    decoder can be extended with blocks without changing its output."""
    block = nn.Sequential(_separable(channels, channels), nn.ReLU(inplace=True), _separable(channels, channels))
    nn.init.zeros_(block[2][1].weight)
    nn.init.zeros_(block[2][1].bias)
    return block


class Decoder(nn.Module):
    """relu3_1 features (N, 256, H/4, W/4) -> RGB 0-1 (N, 3, H, W); upsampling + conv (no checkerboard).

    At 1024² the 1/4-resolution layers cost ~1.2 GMAC each against ~2.5 GMAC at full resolution and ~50 GMAC for
    the encoder, so the residual blocks go there, after a coarse path (:func:`_coarse_path`) added to the trunk.
    Inputs need sides that are multiples of 2 (images: of 8), for the coarse path's pooling.

    With ``content_skip``, a 1x1 conv adds the photo's own features f to the first layer (before its ReLU). t = A f + b
    carries all of f, but whitening scales its weak directions up to the strong ones and A differs for every
    painting, so the photo's forms reach the decoder scrambled. The skip starts at zero (a decoder without one
    extended with it gives the same output) and costs ~2 GMAC at 1024².
    """

    _QUARTER = 4  # layers[:4] run at 1/4 resolution; the coarse path and the residual blocks follow them

    def __init__(self, width: int, blocks: int, content_skip: bool = True, upsampling: str = "bilinear"):
        super().__init__()
        self.layers = nn.Sequential(
            _separable(256, width * 2), nn.ReLU(inplace=True),
            _separable(width * 2, width * 2), nn.ReLU(inplace=True),
            *_upsampling(width * 2, width, upsampling), nn.ReLU(inplace=True),
            _separable(width, width), nn.ReLU(inplace=True),
            *_upsampling(width, width // 2, upsampling), nn.ReLU(inplace=True),
            nn.Conv2d(width // 2, 3, 3, 1, 1),
        )
        self.residual = nn.ModuleList(_residual_block(width * 2) for _ in range(blocks))
        self.coarse = _coarse_path(width * 2, upsampling)
        self.skip = nn.Conv2d(256, width * 2, 1) if content_skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)

    def forward(self, features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """The photo's features f (N, 256, h, w) and the map (matrix (N, 256, 256), bias (N, 256)) -> RGB 0-1."""
        x = self.layers[0](apply_transform(features, matrix, bias))
        if self.skip is not None:
            x = x + self.skip(features)
        x = self.layers[1:self._QUARTER](x)
        x = x + self.coarse(x)
        for block in self.residual:
            x = x + block(x)
        return torch.sigmoid(self.layers[self._QUARTER:](x))


def apply_transform(features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """t = A f + b at every pixel: features (N, C, H, W), matrix A (N, C, C), bias b (N, C)."""
    return (matrix @ features.flatten(2)).view_as(features) + bias[:, :, None, None]


class ArbitraryStyleNet(nn.Module):
    """``encoder(photo)`` -> features f (N, 256, H/4, W/4), for H and W multiples of 8 (4 for the encoder, 2 more for
    the decoder's coarse path); ``forward(f, matrix, bias)`` decodes t = A f + b (see :func:`apply_transform`; A and b
    come from :func:`stylecore.whitening.transform`) to an RGB image (N, 3, H, W) in 0-1. The two halves are the two
    ONNX graphs; the transform is computed between them."""

    def __init__(self, config: ArbitraryConfig = ArbitraryConfig()):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.thin_convs)
        self.decoder = Decoder(config.width, config.blocks, config.content_skip, config.upsampling)

    def load_encoder(self, backbone: VGGFeatures) -> None:
        """Start the encoder from the loss network's VGG16 (see :meth:`Encoder.init_from`)."""
        self.encoder.init_from(backbone)

    def forward(self, features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return self.decoder(features, matrix, bias)
