"""The feed-forward style network for preset styles, designed for a 2-core CPU.

Johnson et al. 2016 layout (downsample x4, residual blocks, upsample x4) with three changes for speed and quality:

* the residual blocks and upsampling convs are depthwise-separable (a 3x3 depthwise conv followed by a 1x1), which
  costs ~8x fewer multiply-adds than a full 3x3 conv at the same width;
* upsampling is nearest-neighbour resize followed by a conv, not a transposed conv (Odena et al. 2016: no
  checkerboard artefacts);
* nothing wide runs at full resolution: the last half-resolution layer is reduced to ``width // 2`` channels by a 1x1
  conv, resized, and one 3x3 conv makes the RGB image. Full-resolution tensors dominated both time and memory in ONNX
  Runtime: at 1056² the earlier layout (a separable conv and instance norm at full resolution) took 0.30 s and
  550 MiB, this one 0.20 s and 330 MiB (random weights; ``python -m benchmarks bench`` has the trained figures);
* instance norm everywhere (Ulyanov et al. 2016), *conditional* during training (Dumoulin et al. 2017): one set of
  scale/shift per style, so N styles share every conv weight and train in one run. ``single_style`` bakes one style's
  scale/shift into a plain network, which is what ships per preset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..ops import mean_std


@dataclass(frozen=True)
class TransformerConfig:
    width: int = 32            # channels at 1/2 resolution; 1/4 res has width*2, the full-res head width/2
    res_blocks: int = 5
    n_styles: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


class CondInstanceNorm(nn.Module):
    """Instance norm with one (gamma, beta) per style. ``forward(x, style)`` with style a (N,) long tensor.

    With n_styles == 1 it exports to ONNX as a plain InstanceNormalization.
    """

    def __init__(self, channels: int, n_styles: int):
        super().__init__()
        self.eps = 1e-5
        # Set by tiling.frozen_norm_stats: "record" keeps this layer's input statistics, "frozen" reuses them.
        self.stats_mode: str | None = None
        self.recorded: tuple[torch.Tensor, torch.Tensor] | None = None
        self.weight = nn.Parameter(torch.ones(n_styles, channels))
        self.bias = nn.Parameter(torch.zeros(n_styles, channels))

    def forward(self, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        if self.stats_mode is not None:
            return self._forward_with_stats(x, style)
        if style is None:  # single-style network: one fused InstanceNormalization node in ONNX
            return F.instance_norm(x, weight=self.weight[0], bias=self.bias[0], eps=self.eps)
        x = F.instance_norm(x, eps=self.eps)
        return x * self.weight[style][:, :, None, None] + self.bias[style][:, :, None, None]

    def _forward_with_stats(self, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        if self.stats_mode == "record":
            self.recorded = mean_std(x, self.eps)
        mean, std = self.recorded
        x = (x - mean) / std
        index = 0 if style is None else style
        weight = self.weight[index].reshape(-1, x.shape[1], 1, 1)
        bias = self.bias[index].reshape(-1, x.shape[1], 1, 1)
        return x * weight + bias


class ConvNormAct(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int, n_styles: int, act: bool = True,
                 depthwise: bool = False):
        super().__init__()
        pad = kernel // 2
        # Zero padding inside the conv: a separate reflection pad was the single largest cost in ONNX Runtime
        # (a full memory pass per layer). The engine reflection-pads the image itself, which covers the borders.
        if depthwise:
            self.conv = nn.Sequential(
                nn.Conv2d(cin, cin, kernel, stride, pad, groups=cin, bias=False),
                nn.Conv2d(cin, cout, 1),
            )
        else:
            self.conv = nn.Conv2d(cin, cout, kernel, stride, pad)
        self.norm = CondInstanceNorm(cout, n_styles)
        self.act = act

    def forward(self, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        x = self.norm(self.conv(x), style)
        return torch.relu(x) if self.act else x


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, n_styles: int):
        super().__init__()
        self.a = ConvNormAct(channels, channels, 3, 1, n_styles, depthwise=True)
        self.b = ConvNormAct(channels, channels, 3, 1, n_styles, act=False, depthwise=True)

    def forward(self, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        return x + self.b(self.a(x, style), style)


class Upsample(nn.Module):
    def __init__(self, cin: int, cout: int, n_styles: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = ConvNormAct(cin, cout, 3, 1, n_styles, depthwise=True)

    def forward(self, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        return self.conv(self.up(x), style)


class TransformerNet(nn.Module):
    """RGB 0-1 (N, 3, H, W) -> RGB 0-1 (N, 3, H, W). H and W must be multiples of 4 (the engine pads)."""

    multiple = 4

    def __init__(self, config: TransformerConfig = TransformerConfig()):
        super().__init__()
        self.config = config
        w, s = config.width, config.n_styles
        # No full-resolution encoder layer: the first conv already strides, which halves the full-res memory
        # traffic that dominates CPU time (the convs themselves are cheap).
        self.down = nn.ModuleList([
            ConvNormAct(3, w, 3, 2, s),
            ConvNormAct(w, w * 2, 3, 2, s),
        ])
        self.res = nn.ModuleList([ResidualBlock(w * 2, s) for _ in range(config.res_blocks)])
        self.up = Upsample(w * 2, w, s)
        self.reduce = nn.Conv2d(w, w // 2, 1)
        self.out = nn.Conv2d(w // 2, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.down:
            x = layer(x, style)
        for block in self.res:
            x = block(x, style)
        x = torch.relu(self.reduce(self.up(x, style)))
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        # sigmoid keeps the output in 0-1 without hard clipping gradients away.
        return torch.sigmoid(self.out(x))


def single_style(net: TransformerNet, index: int) -> TransformerNet:
    """A plain one-style network with style ``index``'s norm parameters baked in. ``net`` is left unchanged."""
    config = TransformerConfig(**{**net.config.to_dict(), "n_styles": 1})
    single = TransformerNet(config)
    state = {}
    for key, value in net.state_dict().items():
        if key.endswith("norm.weight") or key.endswith("norm.bias"):
            value = value[index:index + 1]
        state[key] = value.clone()
    single.load_state_dict(state)
    return single
