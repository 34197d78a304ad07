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
from .configs import LossConfig
from .data import list_images, split_validation
from .errors import CheckpointError
from .imageio import fit_within, open_image, to_tensor
from .networks import TransformerConfig, TransformerNet
from .networks.transformer import single_style
from .presets import load_transformer, read_presets
from .sidecars import write_sidecar
from .checkpoints import load_checkpoint
from .training import load_val_images, style_targets, validation_metrics


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
            "config": {k: v for k, v in raw.items() if k != "net"},
            "backbone": raw["backbone"],
            "trained_jointly_with": [n for n in names if n != name],
            "style_index": index,
            "steps": state["step"],
            "wall_seconds_total": round(state["wall_seconds"], 1),
            "wall_seconds_share": round(state["wall_seconds"] / len(names), 1),
            "metrics": {**metrics[index], "photos": n_val_metrics, "size": 256},
        }
        (folder / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
        write_sidecar(folder / f"{name}.pt", meta, preset=f"{name}.json")
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
        write_sidecar(preset.onnx_path, preset.metadata, preset=f"{preset.name}.json",
                      exported_from=preset.weights_path.name, opset=opset, parity_max_abs_diff=diff)
        results.append((preset.onnx_path, diff))
    return results


CREDIT = {
    "network": "MicroAST",
    "authors": "Zhizhong Wang, Lei Zhao, Zhiwen Zuo, Ailin Li, Haibo Chen, Wei Xing, Dongming Lu",
    "paper": "MicroAST: Towards Super-Fast Ultra-Resolution Arbitrary Style Transfer, AAAI 2023 (arXiv:2211.15313)",
    "repository": "https://github.com/EndyWon/MicroAST",
    "commit": "5a6c9050d8c4",
    "licence": "MIT",
}


def release_arbitrary(source: Path, weights_dir: Path) -> Path:
    """Ship the any-style network as ``weights_dir/arbitrary/microast.pt``, with metadata: MicroAST's credit and
    licence, the published files it started from (SHA-256), the recipe and the steps trained here.

    ``source`` is a fine-tuning run's folder (training_arbitrary.py; its moving average of the weights ships), or a
    folder holding the authors' published files (networks.microast.PUBLISHED_FILES; they ship as they are, 0 steps,
    no recipe). The folder's other files and manifest are replaced (export_arbitrary_onnx then writes the graphs)."""
    from .arbitrary import WEIGHTS_FILE
    from .networks.microast import PUBLISHED_FILES, MicroAST, load_published
    from .training_arbitrary import published_sha256

    source = Path(source)
    if (source / "checkpoint.pt").exists():
        state = load_checkpoint(source / "checkpoint.pt")
        raw, steps, wall = state["config"], state["step"], round(state["wall_seconds"], 1)
        net = MicroAST()
        net.load_state_dict(state["average"])
        published, started_from = Path(raw["init_from"]), state["started_from"]
        network = {"weights": f"moving average of the fine-tuned weights (decay {raw['ema_decay']})"}
        backbone, losses = raw["backbone"], state["history"][-1] if state["history"] else None
    elif all((source / file).exists() for file in PUBLISHED_FILES.values()):
        net, raw, steps, wall, published = load_published(source), None, 0, 0.0, source
        started_from = published_sha256(source)
        network = {"weights": "as published by the authors, not trained here"}
        backbone, losses = None, None  # the authors trained it against ImageNet VGG19, not one of our backbones
    else:
        raise CheckpointError(f"{source} holds neither a fine-tuning run (checkpoint.pt) nor MicroAST's published "
                              f"files ({', '.join(PUBLISHED_FILES.values())})")
    licence = published / "LICENSE"
    if not licence.exists():
        raise CheckpointError(f"{licence} is missing: MicroAST's MIT licence must ship with its weights")
    folder = weights_dir / "arbitrary"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("*.pt"), *folder.glob("*.onnx"), *folder.glob("*.json")]:
        stale.unlink()
    torch.save(net.state_dict(), folder / WEIGHTS_FILE)
    meta = {
        "network": {"name": "MicroAST", "definition": "stylecore/networks/microast.py", **network},
        "config": raw,
        "backbone": backbone,
        "steps": steps,
        # What decides a release is blind judgement (docs/quality.md); the losses are the last training step's.
        "metrics": {"latest_losses": losses, "judged_blind": "docs/quality.md"},
        "credit": {**CREDIT, "licence_text": licence.read_text(), "started_from_sha256": started_from},
    }
    write_sidecar(folder / WEIGHTS_FILE, meta, credit=meta["credit"], wall_seconds=wall)
    return folder / WEIGHTS_FILE


class _Stage(torch.nn.Module):
    """One of the network's stages as a module of its own, for torch.onnx.export."""

    def __init__(self, net, method: str):
        super().__init__()
        self.net, self.method = net, method

    def forward(self, *inputs):
        return getattr(self.net, self.method)(*inputs)


def export_arbitrary_onnx(weights_dir: Path, opset: int = 17) -> list[tuple[Path, float]]:
    """The four graphs of arbitrary.GRAPHS beside ``microast.pt``, each checked against PyTorch; the photo's
    statistics between them are computed in numpy (arbitrary.feature_stats)."""
    import onnxruntime as ort

    from .arbitrary import WEIGHTS_FILE, load_arbitrary_net
    from .networks.microast import mean_std

    folder = weights_dir / "arbitrary"
    net, meta = load_arbitrary_net(folder)
    gen = torch.Generator().manual_seed(0)
    painting, photo = torch.rand(1, 3, 72, 56, generator=gen), torch.rand(1, 3, 64, 96, generator=gen)
    with torch.no_grad():
        code = net.style_code(painting)
        features = net.encode(photo)
        hidden = net.modulate(features, *mean_std(features), code)
    image_axes = {2: "height", 3: "width"}
    feature_axes = {2: "fheight", 3: "fwidth"}
    graphs = [
        ("style.onnx", "style_code", (painting,), ["painting"], ["code"], {"painting": image_axes}),
        ("encoder.onnx", "encode", (photo,), ["image"], ["features"], {"image": image_axes, "features": feature_axes}),
        ("modulate.onnx", "modulate", (features, *mean_std(features), code), ["features", "mean", "std", "code"],
         ["hidden"], {"features": feature_axes, "hidden": feature_axes}),
        ("decoder.onnx", "decode", (hidden, *mean_std(hidden), code), ["hidden", "mean", "std", "code"],
         ["stylized"], {"hidden": feature_axes, "stylized": image_axes}),
    ]
    results = []
    for name, method, inputs, in_names, out_names, axes in graphs:
        target = folder / name
        partial = target.with_suffix(".onnx.partial")
        module = _Stage(net, method)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, inputs, str(partial), input_names=in_names, output_names=out_names,
                              dynamic_axes=axes, opset_version=opset, dynamo=False)
        session = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
        got = session.run(None, {n: t.numpy() for n, t in zip(in_names, inputs)})[0]
        with torch.no_grad():
            expected = module(*inputs).numpy()
        diff = float(np.abs(got - expected).max())
        if diff > 1e-3:
            partial.unlink()
            raise CheckpointError(f"ONNX export {name} differs from PyTorch by {diff:.2e}")
        partial.replace(target)
        # The graph's own metadata: what it was exported from, and the parity measured just now.
        write_sidecar(target, meta, credit=meta.get("credit"), exported_from=WEIGHTS_FILE, inputs=in_names,
                      outputs=out_names, opset=opset, parity_max_abs_diff=diff)
        results.append((target, diff))
    return results
