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


def release_arbitrary(run_dir: Path, weights_dir: Path, n_pairs: int = 20) -> Path:
    """Copy a trained arbitrary-style run into ``weights_dir/arbitrary`` with its metadata and validation metrics
    (mean over held-out photo x held-out painting pairs). A run with ``ema_decay`` ships its averaged decoder."""
    from .arbitrary import IMAGE_MULTIPLE
    from .networks.arbitrary import ArbitraryConfig, ArbitraryStyleNet
    from .metrics import style_distances
    from .training_arbitrary import split_paintings, stylize_tensors

    state = load_checkpoint(run_dir / "checkpoint.pt")
    raw = state["config"]
    net = ArbitraryStyleNet(ArbitraryConfig.from_dict(raw["net"]))
    net.load_state_dict(state["net"])
    if "decoder_average" in state:
        net.decoder.load_state_dict(state["decoder_average"])
    net.eval()
    vgg = load_backbone(raw["backbone"])
    _, val_photos = split_validation(list_images(Path(raw["content_dir"])), raw["n_val_photos"])
    _, val_styles = split_paintings(Path(raw["style_dir"]), raw["n_val_styles"])
    photos = load_val_images(val_photos[: max(1, n_pairs // len(val_styles))], 256, IMAGE_MULTIPLE)
    totals = {"gram": 0.0, "mean_std": 0.0, "content": 0.0}
    pairs = 0
    for path in val_styles:
        style = to_tensor(fit_within(open_image(path), 256))
        for photo in photos:
            for key, value in style_distances(vgg, stylize_tensors(net, photo, style), style, photo).items():
                totals[key] += value
            pairs += 1
    folder = weights_dir / "arbitrary"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), folder / "arbitrary.pt")
    meta = {
        "network": raw["net"],
        "config": {k: v for k, v in raw.items() if k != "net"},
        "backbone": raw["backbone"],
        "steps": state["step"],
        "wall_seconds": round(state["wall_seconds"], 1),
        "metrics": {**{k: v / pairs for k, v in totals.items()}, "pairs": pairs, "size": 256,
                       "paintings": [p.name for p in val_styles]},
    }
    write_sidecar(folder / "arbitrary.pt", meta, wall_seconds=meta["wall_seconds"])
    return folder / "arbitrary.pt"


def export_arbitrary_onnx(weights_dir: Path, opset: int = 17) -> list[tuple[Path, float]]:
    """``encoder.onnx`` (image -> features) and ``decoder.onnx`` (features, matrix, bias -> image); the feature
    transform between them is computed in numpy (whitening.py)."""
    import onnxruntime as ort

    from .arbitrary import load_arbitrary_net

    folder = weights_dir / "arbitrary"
    net, meta = load_arbitrary_net(folder)
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 64, 96, generator=gen)
    with torch.no_grad():
        features = net.encoder(image)
    channels = features.shape[1]
    matrix = torch.eye(channels)[None] + 0.1 * torch.randn(1, channels, channels, generator=gen)
    bias = torch.randn(1, channels, generator=gen)
    decoder_inputs, decoder_names = (features, matrix, bias), ["features", "matrix", "bias"]
    graphs = [
        ("encoder.onnx", net.encoder, (image,), ["image"], ["features"],
         {"image": {2: "height", 3: "width"}, "features": {2: "fheight", 3: "fwidth"}}),
        ("decoder.onnx", net, decoder_inputs, decoder_names, ["stylized"],
         {"features": {2: "fheight", 3: "fwidth"}, "stylized": {2: "height", 3: "width"}}),
    ]
    results = []
    for name, module, inputs, in_names, out_names, axes in graphs:
        target = folder / name
        partial = target.with_suffix(".onnx.partial")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, inputs, str(partial), input_names=in_names, output_names=out_names,
                              dynamic_axes=axes, opset_version=opset, dynamo=False)
        session = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
        got = session.run(None, {n: t.numpy() for n, t in zip(in_names, inputs)})
        with torch.no_grad():
            expected = module(*inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        diff = max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected))
        if diff > 1e-3:
            partial.unlink()
            raise CheckpointError(f"ONNX export {name} differs from PyTorch by {diff:.2e}")
        partial.replace(target)
        # The graph's own metadata: what it was exported from, and the parity measured just now.
        write_sidecar(target, meta, exported_from="arbitrary.pt", inputs=in_names, outputs=out_names, opset=opset,
                      parity_max_abs_diff=diff)
        results.append((target, diff))
    return results


# The int8 encoder's calibration: activation ranges (min to max) over this many training photos and paintings, at
# most 512 px a side (the default style scale; most photos are smaller).
_CALIBRATION_PHOTOS, _CALIBRATION_PAINTINGS, _CALIBRATION_SIZE = 24, 8, 512
_INT8_MAX_ERROR = 0.02  # relative squared error of the int8 encoder's features on held-out photos, at most


def quantize_arbitrary_encoder(weights_dir: Path) -> tuple[Path, float]:
    """``encoder.int8.onnx`` beside ``encoder.onnx``: its convs in int8 (static quantisation, per-channel weights),
    which takes the encoder from ~0.67 to ~0.40 s at 1056² on a 2-core AVX2 CPU (docs/engine.md). Returns the path
    and the relative error of its features against the float graph's on held-out photos, which must stay under
    :data:`_INT8_MAX_ERROR`.

    Weights are quantised to 7 bits (``reduce_range``): an AVX2 CPU multiplies uint8 activations by int8 weights in
    pairs summed in int16, which saturates with 8-bit weights (255 * 127 * 2 > 32767) and, with 7-bit ones, cannot;
    so the integer sums are exact on AVX2, AVX-512 and VNNI alike (ONNX Runtime's fused int8 kernels are not).
    Calibration uses training images only (the release's config), never the held-out ones.
    """
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .arbitrary import IMAGE_MULTIPLE, read_metadata
    from .training_arbitrary import split_paintings

    folder = weights_dir / "arbitrary"
    meta, source, target = read_metadata(folder), folder / "encoder.onnx", folder / "encoder.int8.onnx"
    config = meta["config"]
    train_photos, val_photos = split_validation(list_images(Path(config["content_dir"])), config["n_val_photos"])
    train_paintings, _ = split_paintings(Path(config["style_dir"]), config["n_val_styles"])
    rng = np.random.default_rng(0)
    calibration = [*rng.permutation(np.array(train_photos, dtype=object))[:_CALIBRATION_PHOTOS],
                   *rng.permutation(np.array(train_paintings, dtype=object))[:_CALIBRATION_PAINTINGS]]

    def images(paths):
        return [x.numpy() for x in load_val_images(paths, _CALIBRATION_SIZE, IMAGE_MULTIPLE)]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._feeds = iter({"image": x} for x in images(calibration))

        def get_next(self):
            return next(self._feeds, None)

    prepared, partial = target.with_suffix(".prepared.partial"), target.with_suffix(".onnx.partial")
    try:
        quant_pre_process(str(source), str(prepared))
        quantize_static(str(prepared), str(partial), Reader(), quant_format=QuantFormat.QOperator, per_channel=True,
                        reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    finally:
        prepared.unlink(missing_ok=True)
    exact, quantised = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (source, partial))
    errors = []
    for x in images(val_photos[:4]):
        want, got = (s.run(None, {"image": x})[0] for s in (exact, quantised))
        errors.append(float(((got - want) ** 2).sum() / max((want ** 2).sum(), 1e-12)))
    error = max(errors)
    if not error <= _INT8_MAX_ERROR:
        partial.unlink()
        raise CheckpointError(f"the int8 encoder's features differ from the float ones by {error:.3f} (relative), "
                              f"more than {_INT8_MAX_ERROR}")
    partial.replace(target)
    write_sidecar(target, meta, exported_from="encoder.onnx", inputs=["image"], outputs=["features"],
                  quantization={"format": "QOperator", "weights": "int8 per channel, 7-bit range", "activations":
                                "uint8, min-max ranges", "calibration_images": len(calibration),
                                "calibration_size": _CALIBRATION_SIZE},
                  relative_feature_error=error, relative_feature_error_photos=len(errors))
    return target, error
