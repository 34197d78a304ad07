"""From a training run to shipped weights: per-preset single-style networks, their metadata, and ONNX files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from .backbones import load_backbone
from .catalog import PAINTINGS
from .data import list_images, split_validation
from .errors import CheckpointError
from .imageio import fit_within, open_image
from .networks import TransformerConfig, TransformerNet
from .networks.transformer import single_style
from .presets import load_transformer, read_presets
from .training import load_checkpoint, style_targets, validation_metrics
from .losses import LossConfig


def release_presets(run_dir: Path, weights_dir: Path, names: list[str], n_val_metrics: int = 20) -> list[Path]:
    """Split a multi-style run into one network per style under ``weights_dir/presets``, with metadata and previews.

    ``names`` are catalog names in the order of the run's style images. Validation metrics use the first
    ``n_val_metrics`` held-out photos of the run.
    """
    state = load_checkpoint(run_dir / "checkpoint.pt")
    raw = state["config"]
    net_cfg = TransformerConfig(**{**raw["net"], "n_styles": len(raw["style_paths"])})
    loss_cfg = LossConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw["loss"].items()})
    if len(names) != net_cfg.n_styles:
        raise CheckpointError(f"the run has {net_cfg.n_styles} styles but {len(names)} names were given")
    net = TransformerNet(net_cfg)
    net.load_state_dict(state["net"])
    vgg = load_backbone(raw["backbone"])
    _, val_paths = split_validation(list_images(Path(raw["content_dir"])), raw["n_val"])
    grams = style_targets(vgg, raw["style_paths"], raw["style_size"], loss_cfg.style_layers)
    metrics = validation_metrics(net, vgg, val_paths[:n_val_metrics], grams, loss_cfg)
    folder = weights_dir / "presets"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, name in enumerate(names):
        painting = PAINTINGS[name]
        single = single_style(net, index)
        torch.save(single.state_dict(), folder / f"{name}.pt")
        style = open_image(Path(raw["style_paths"][index]))
        fit_within(style, 1024).save(folder / f"{name}.style.jpg", quality=92)
        ImageOps.fit(style, (256, 256), Image.Resampling.LANCZOS).save(folder / f"{name}.jpg", quality=90)
        meta = {
            **painting.to_dict(),
            "network": {k: v for k, v in net_cfg.to_dict().items() if k != "n_styles"},
            "training": {k: v for k, v in raw.items() if k != "net"},
            "trained_jointly_with": [n for n in names if n != name],
            "style_index": index,
            "steps": state["step"],
            "wall_seconds_total": round(state["wall_seconds"], 1),
            "wall_seconds_share": round(state["wall_seconds"] / len(names), 1),
            "validation": {**metrics[index], "photos": n_val_metrics, "size": 256},
        }
        (folder / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
        written.append(folder / f"{name}.pt")
    return written


def export_onnx(weights_dir: Path, opset: int = 17) -> list[tuple[Path, float]]:
    """Write ``<name>.onnx`` beside each preset's ``.pt``; returns (path, max abs difference vs PyTorch) pairs.

    Height and width are dynamic. Parity is checked on a 64x96 random input before the file is kept.
    """
    import onnxruntime as ort

    results = []
    for preset in read_presets(weights_dir).values():
        net = load_transformer(preset.weights_path, preset.metadata["network"])
        example = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
        partial = preset.onnx_path.with_suffix(".onnx.partial")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript-exporter deprecation notice
            torch.onnx.export(net, (example,), str(partial), input_names=["image"], output_names=["stylized"],
                              dynamic_axes={"image": {2: "height", 3: "width"}, "stylized": {2: "height", 3: "width"}},
                              opset_version=opset, dynamo=False)
        session = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
        got = session.run(None, {"image": example.numpy()})[0]
        with torch.no_grad():
            expected = net(example).numpy()
        diff = float(np.abs(got - expected).max())
        if diff > 1e-3:
            partial.unlink()
            raise CheckpointError(f"ONNX export of {preset.name} differs from PyTorch by {diff:.2e}")
        partial.replace(preset.onnx_path)
        results.append((preset.onnx_path, diff))
    return results
