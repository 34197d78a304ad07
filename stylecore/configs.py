"""Settings of the engine, its losses and the optimize method: plain dataclasses, importable without torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LossConfig:
    """The loss of the preset networks as shipped (the optimize method sets its own)."""
    content_layers: tuple[str, ...] = ("relu2_2",)
    style_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    content_weight: float = 1.0
    style_weight: float = 8.0
    tv_weight: float = 0.0

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.content_layers + self.style_layers))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class OptimizeConfig:
    # Iterations per stage, coarse to fine; each stage doubles the resolution of the previous one, and the last runs
    # at the size asked for. On 2 cores a VGG16 iteration costs ~16x more at 1024 px than at 256 px, so the coarse
    # stages settle the large forms and the full-size stage only sharpens them; at 1024 px the whole run stays within
    # about 90 s (docs/engine.md).
    stage_iterations: tuple[int, ...] = (50, 12, 3)
    # The painting's long side relative to the stage's long side, the same at every stage, so that every stage asks
    # for brush strokes of the same size relative to the picture (a fixed painting size asks the coarse stages for
    # larger strokes than the full-size stage, and the stages undo each other).
    style_scale: float = 0.75
    seed: int = 0
    # No relu4_3 Gram: its receptive field holds whole objects of the painting (dancers, boats), which it pasted into
    # the photo's flat areas as ghosts (docs/quality.md).
    loss: LossConfig = LossConfig(content_layers=("relu3_3",), style_layers=("relu1_2", "relu2_2", "relu3_3"),
                                  style_weight=12.0, tv_weight=0.01)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EngineConfig:
    threads: int = 2
    runtime: str = "onnx"            # "onnx" (ONNX Runtime) or "torch" for the fast method
    tile_above: int = 2048 * 2048    # fast method: images with more pixels run in tiles
    # The any-style network's largest activations are 16 channels at full resolution: ~100 MiB at 1.5 MP.
    arbitrary_tile_above: int = 1_500_000
    arbitrary_tile: int = 1088
    # Its tiles share twice the network's reach (about 50 px from a pixel to the farthest input it reads), so that
    # each tile's owned part, cut at the middle of the overlaps, is what a whole render gives (arbitrary.py).
    arbitrary_tile_overlap: int = 128
    tile: int = 1024
    tile_overlap: int = 64
    optimize_max_side: int = 1024    # the optimize method is slow: larger sizes are refused, never silently shrunk
    optimize: OptimizeConfig = OptimizeConfig()
