"""The arbitrary-style network: any painting in one forward pass (AdaIN, Huang & Belongie, ICCV 2017, with WCT).

    photo ──── encoder: VGG16 up to relu3_1 ── f ─┐
                                                  t = A f + b per pixel (A, b from whitening.py: whitening and
    painting ─ encoder ── mean, covariance ───────┘  colouring, blended over styles, mixed by strength) ─ decoder ─ image

The paper encodes to relu4_1 with a full mirrored VGG decoder and matches per-channel mean and std (AdaIN). Here the
encoder stops at relu3_1 and the decoder is depthwise-separable, to fit a 2-core CPU, and the transform matches the
painting's full feature covariance (WCT, Li et al. 2017), computed outside the network so that ONNX graphs only apply
a matrix. The encoder is VGG16's convs 1_1..3_1 with the widest replaced by depthwise-separable convs *distilled*
from them (Wang et al., CVPR 2020, in spirit): initialised with a low-rank-per-input-channel factorisation of VGG's
kernels (:func:`separable_from_dense`), then trained to reproduce VGG's relu1_2, relu2_2 and relu3_1. Up to v9 these
were conv1_2 (full resolution, 64->64) and conv2_2 (half resolution, 128->128), which took the encoder from ~118 to ~50
GMAC at 1024²; the v10 experiment (not shipped) also thins conv2_1 and conv3_1, at rank 1, to ~16 GMAC
(docs/engine.md, item 12).
A first attempt with a small encoder learned from scratch (MicroAST-style) collapsed: after 500 steps every painting
gave the same output, because nothing forced its features' statistics to carry style. Distilling from VGG keeps that
property. The encoder's weights are saved with the decoder's, so inference needs no separate backbone file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..backbones import VGGFeatures, vgg16_trunk
from ..errors import InvalidOptionError

ENCODER_LAYER = "relu3_1"
UPSAMPLING_MODES = ("nearest", "bilinear")


@dataclass(frozen=True)
class ArbitraryConfig:
    width: int = 64     # decoder channels at 1/2 resolution (1/4 resolution has 2x, full resolution 1/2x)
    blocks: int = 2     # residual blocks at 1/4 resolution, the decoder's cheapest place for capacity
    content_skip: bool = False  # the decoder also reads the photo's own features f, not only t (Decoder)
    # VGG convs the encoder replaces by distilled separable ones, with the rank of each (depthwise kernels per input
    # channel). The default is the encoder of v3-v9, whose metadata predates the option.
    thin_convs: dict[str, int] = field(default_factory=lambda: {"conv1_2": 1, "conv2_2": 1})
    # The decoder's first layer as a 1x1 conv then a 3x3 depthwise one, so that the map t = A f + b and the content
    # skip fold into one 1x1 conv on f whose weights are computed per style (Decoder). False: v3-v9's layout.
    fold_transform: bool = False
    # The two upsampling stages as a 1x1 conv, the upsampling, then a depthwise conv (:func:`_upsampling`). False:
    # v3-v9's upsampling then a separable conv.
    pointwise_first: bool = False
    # The decoder also takes a balance b in [-1, 1] per image, which moves its result from the photo's forms (-1)
    # towards the painting's (1): trained with the painting's loss terms weighted up and the photo's down by a
    # factor that grows with b (training_arbitrary.balance_weights; Babaeizadeh & Ghiasi, "Adjustable Real-time
    # Style Transfer", 2018; Modulation).
    balance: bool = False
    # How the decoder doubles its resolution (its two stages and the coarse path). "nearest" (v3-v9) leaves a faint
    # grid with the features' 4 px period in flat regions; "bilinear" does not (docs/engine.md, items 16 and 21).
    upsampling: str = "nearest"

    def __post_init__(self):
        if self.upsampling not in UPSAMPLING_MODES:
            raise InvalidOptionError(f"upsampling must be one of {', '.join(UPSAMPLING_MODES)}, not {self.upsampling!r}")

    def to_dict(self) -> dict:
        return asdict(self)


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


def _pointwise_depthwise(cin: int, cout: int) -> nn.Sequential:
    """A 1x1 conv then a 3x3 depthwise one (the separable conv in the other order). The depthwise kernels start as
    the identity, so a first layer converted from the other order is its 1x1 part with the old kernels' sums as
    input gains (training_arbitrary._warm_start)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 1), _identity_depthwise(cout))


def _identity_depthwise(channels: int) -> nn.Conv2d:
    """A 3x3 depthwise conv that starts as the identity."""
    depthwise = nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False)
    with torch.no_grad():
        depthwise.weight.zero_()
        depthwise.weight[:, :, 1, 1] = 1.0
    return depthwise


def _upsampling(cin: int, cout: int, pointwise_first: bool, mode: str) -> list[nn.Module]:
    """Two layers that double the resolution and go from ``cin`` to ``cout`` channels.

    v3-v9: an upsampling (``mode``), then a separable conv at the new resolution. ``pointwise_first``: the 1x1 conv before
    the upsampling (they commute), then the depthwise conv on ``cout`` channels, so the 1x1 conv runs on a quarter of
    the pixels and the upsampling copies fewer channels. Not the same function (the depthwise kernels act after the
    channel mix, one per output channel), so a decoder converts to it by training (docs/engine.md, item 17). Its
    depthwise kernels start as the identity."""
    up = nn.Upsample(scale_factor=2, mode=mode)
    if not pointwise_first:
        return [up, _separable(cin, cout)]
    return [nn.Conv2d(cin, cout, 1), nn.Sequential(up, _identity_depthwise(cout))]


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


class Modulation(nn.Module):
    """x -> x (1 + b gain) + b shift per channel, for a balance b (N,) in [-1, 1]: the decoder's conditioning on the
    balance, as conditional instance normalisation conditions a network on a style with one scale and shift per
    channel (Dumoulin et al., 2017). Both start at zero, so a decoder extended with it gives its old output at every
    balance; at b = 0 it is the identity throughout."""

    def __init__(self, channels: int):
        super().__init__()
        self.gain = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.shift = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor, balance: torch.Tensor) -> torch.Tensor:
        b = balance.view(-1, 1, 1, 1)
        return x * (1 + b * self.gain) + b * self.shift


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
    painting, so the photo's forms reach the decoder scrambled. The skip starts at zero (an earlier release extended
    with it gives the same output) and costs ~2 GMAC at 1024².

    With ``fold_transform`` the first layer is a 1x1 conv W then a 3x3 depthwise conv, and W t + S f (S: the skip)
    = (W A + S) f + W b: the map, the skip and the 1x1 conv become one 1x1 conv on f whose (2 width, 256) weights are
    computed per style, ~7 GMAC less at 1024² than applying A (4.6 GMAC), the skip and the first layer apart
    (docs/engine.md, item 12). With ``pointwise_first`` the upsampling stages mix channels before they upsample
    (:func:`_upsampling`); with the fold, that takes the decoder graph at 1056² from 0.77 to 0.49 s (item 17)."""

    _QUARTER = 4  # layers[:4] run at 1/4 resolution; the residual blocks follow them
    UPSAMPLING = (4, 9)  # the first of each upsampling stage's two layers (_upsampling)

    def __init__(self, width: int, blocks: int, content_skip: bool = False, fold_transform: bool = False,
                 pointwise_first: bool = False, balance: bool = False, upsampling: str = "nearest"):
        super().__init__()
        first = _pointwise_depthwise(256, width * 2) if fold_transform else _separable(256, width * 2)
        self.fold_transform = fold_transform
        self.layers = nn.Sequential(
            first, nn.ReLU(inplace=True),
            _separable(width * 2, width * 2), nn.ReLU(inplace=True),
            *_upsampling(width * 2, width, pointwise_first, upsampling), nn.ReLU(inplace=True),
            _separable(width, width), nn.ReLU(inplace=True),
            *_upsampling(width, width // 2, pointwise_first, upsampling), nn.ReLU(inplace=True),
            nn.Conv2d(width // 2, 3, 3, 1, 1),
        )
        self.residual = nn.ModuleList(_residual_block(width * 2) for _ in range(blocks))
        self.coarse = _coarse_path(width * 2, upsampling)
        self.skip = nn.Conv2d(256, width * 2, 1) if content_skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
        # With ``balance``, one Modulation before each ReLU of the trunk (keyed by the ReLU's index) and one on the
        # RGB logits (key "out").
        self.modulation = None
        if balance:
            channels, modulated = {}, 0
            for index, layer in enumerate(self.layers):
                convs = [m for m in layer.modules() if isinstance(m, nn.Conv2d)]
                modulated = convs[-1].out_channels if convs else modulated
                if isinstance(layer, nn.ReLU):
                    channels[str(index)] = modulated
            self.modulation = nn.ModuleDict({**{k: Modulation(c) for k, c in channels.items()}, "out": Modulation(3)})

    def forward(self, features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor,
                balance: torch.Tensor | None = None) -> torch.Tensor:
        """The photo's features f (N, 256, h, w) and the map (matrix (N, 256, 256), bias (N, 256)) -> RGB 0-1; a
        decoder made with ``balance`` also takes the balance (N,) (0 when not given)."""
        if self.modulation is not None and balance is None:
            balance = features.new_zeros(features.shape[0])
        x = self._folded_first(features, matrix, bias) if self.fold_transform else self._first(features, matrix, bias)
        x = self._trunk(x, 1, self._QUARTER, balance)
        x = x + self.coarse(x)
        for block in self.residual:
            x = x + block(x)
        x = self._trunk(x, self._QUARTER, len(self.layers), balance)
        return torch.sigmoid(x if self.modulation is None else self.modulation["out"](x, balance))

    def _trunk(self, x: torch.Tensor, start: int, stop: int, balance: torch.Tensor | None) -> torch.Tensor:
        """``layers[start:stop]``, each ReLU after its Modulation when the decoder has them."""
        for index in range(start, stop):
            if self.modulation is not None and str(index) in self.modulation:
                x = self.modulation[str(index)](x, balance)
            x = self.layers[index](x)
        return x

    def _first(self, features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.layers[0](apply_transform(features, matrix, bias))
        return x if self.skip is None else x + self.skip(features)

    def _folded_first(self, features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        pointwise, depthwise = self.layers[0]
        kernel = pointwise.weight.flatten(1)                                   # (2 width, 256)
        weight = kernel @ matrix                                               # (N, 2 width, 256)
        shift = (kernel @ bias.unsqueeze(-1)).squeeze(-1) + pointwise.bias     # (N, 2 width)
        if self.skip is not None:
            weight = weight + self.skip.weight.flatten(1)
            shift = shift + self.skip.bias
        n, _, h, w = features.shape
        x = (weight @ features.flatten(2)).view(n, -1, h, w) + shift[:, :, None, None]
        return depthwise(x)


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
        self.decoder = Decoder(config.width, config.blocks, config.content_skip, config.fold_transform,
                               config.pointwise_first, config.balance, config.upsampling)

    def load_encoder(self, backbone: VGGFeatures) -> None:
        """Start the encoder from the loss network's VGG16 (see :meth:`Encoder.init_from`)."""
        self.encoder.init_from(backbone)

    def forward(self, features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor,
                balance: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(features, matrix, bias, balance)
