"""Training the feed-forward preset network on a VGG perceptual loss (Johnson et al. 2016).

All styles of a run share one network with conditional instance norm (Dumoulin et al. 2017): every step trains
``batch_size`` photos, each against a different style in round-robin, so N styles cost one run instead of N.
A run lives in one folder: ``checkpoint.pt`` (resumable), ``history.json``, ``loss.png`` and ``preview_<step>.jpg``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from .backbones import DEFAULT_BACKBONE, load_backbone
from .checkpoints import load_checkpoint, random_state, save_checkpoint
from .data import CropSampler, list_images, split_validation
from .errors import CheckpointError
from .imageio import fit_within, open_image, to_tensor
from .configs import LossConfig
from .losses import perceptual_loss
from .metrics import gram_and_content_distance
from .networks import TransformerConfig, TransformerNet
from .ops import gram_matrix
from .plots import save_grid, save_loss_curve


@dataclass(frozen=True)
class TrainConfig:
    content_dir: str
    style_paths: tuple[str, ...]
    run_dir: str
    steps: int = 2500
    batch_size: int = 4
    crop_size: int = 192
    style_size: int = 512
    lr: float = 1e-3
    seed: int = 0
    n_val: int = 60
    checkpoint_every: int = 50
    preview_every: int = 250
    backbone: str = DEFAULT_BACKBONE
    net: TransformerConfig = field(default_factory=TransformerConfig)
    loss: LossConfig = field(default_factory=LossConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def style_targets(vgg, style_paths, style_size: int, layers) -> dict[str, torch.Tensor]:
    """Gram matrices of each style image at ``style_size`` long side: {layer: (S, C, C)}."""
    grams: dict[str, list] = {name: [] for name in layers}
    with torch.no_grad():
        for path in style_paths:
            image = to_tensor(fit_within(open_image(Path(path)), style_size))
            features = vgg(image, layers)
            for name in layers:
                grams[name].append(gram_matrix(features[name]))
    return {name: torch.cat(values) for name, values in grams.items()}


def load_val_images(paths, size: int, multiple: int = TransformerNet.multiple) -> list[torch.Tensor]:
    """Validation photos at ``size`` long side, cropped to a multiple of the network's stride."""
    images = [to_tensor(fit_within(open_image(p), size)) for p in paths]
    return [x[:, :, : x.shape[2] // multiple * multiple, : x.shape[3] // multiple * multiple] for x in images]


def validation_metrics(net, vgg, val_paths, grams, loss: LossConfig, size: int = 256) -> list[dict]:
    """Per style: mean style distance (relative Gram error) and content distance on the validation photos."""
    net.eval()
    images = load_val_images(val_paths, size)
    results = []
    with torch.no_grad():
        for s in range(grams[loss.style_layers[0]].shape[0]):
            style_d, content_d = [], []
            targets = {name: grams[name][s:s + 1] for name in loss.style_layers}
            for x in images:
                style, content = gram_and_content_distance(vgg, net(x, torch.tensor([s])), x, targets,
                                                           loss.style_layers, loss.content_layers)
                style_d.append(style)
                content_d.append(content)
            results.append({"style_distance": sum(style_d) / len(style_d),
                            "content_distance": sum(content_d) / len(content_d)})
    net.train()
    return results


def _previews(net, val_images: list[torch.Tensor], n_styles: int) -> list[list[torch.Tensor]]:
    net.eval()
    with torch.no_grad():
        rows = [[x] + [net(x, torch.tensor([s])) for s in range(n_styles)] for x in val_images]
    net.train()
    return rows


def train(config: TrainConfig, *, show_progress: bool = True) -> Path:
    """Train (or resume) a run; returns the path of its final checkpoint. Deterministic given the seed."""
    run_dir = Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    vgg = load_backbone(config.backbone)
    photos = list_images(Path(config.content_dir))
    train_paths, val_paths = split_validation(photos, config.n_val)
    n_styles = len(config.style_paths)
    net = TransformerNet(TransformerConfig(**{**config.net.to_dict(), "n_styles": n_styles}))
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    grams = style_targets(vgg, config.style_paths, config.style_size, config.loss.style_layers)
    sampler = CropSampler(train_paths, config.crop_size, config.seed)

    checkpoint_path = run_dir / "checkpoint.pt"
    step, wall, history = 0, 0.0, []
    if checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path)
        # Only `steps` may change on resume (to extend a run); anything else would silently mix two experiments.
        # Compared through JSON: the checkpoint keeps tuples, and tuples never equal the lists JSON gives back.
        saved = json.loads(json.dumps({**state["config"], "steps": config.steps}))
        if saved != json.loads(json.dumps(config.to_dict())):
            raise CheckpointError(f"{checkpoint_path} was made with a different config; use a new run folder")
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        step, wall, history = state["step"], state["wall_seconds"], state["history"]
        sampler.rng.setstate(random_state(state["sampler_rng"]))
        torch.set_rng_state(state["torch_rng"])
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    (run_dir / "validation_photos.txt").write_text("\n".join(p.name for p in val_paths) + "\n")
    val_images = load_val_images(val_paths[:4], 256)

    net.train()
    bar = tqdm(total=config.steps, initial=step, desc="train", unit="step", disable=not show_progress)
    while step < config.steps:
        started = time.perf_counter()
        x = sampler.batch(config.batch_size)
        styles = torch.arange(step * config.batch_size, (step + 1) * config.batch_size) % n_styles
        out = net(x, styles)
        with torch.no_grad():
            content_targets = vgg(x, config.loss.content_layers)
        features = vgg(out, config.loss.layers)
        target_grams = {name: g[styles] for name, g in grams.items()}
        losses = perceptual_loss(features, content_targets, target_grams, out, config.loss)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimizer.step()
        step += 1
        wall += time.perf_counter() - started
        history.append({"step": step, **{k: round(v.item(), 5) for k, v in losses.items()}})
        bar.update(1)
        bar.set_postfix(loss=f"{history[-1]['total']:.3f}", style=f"{history[-1]['style']:.3f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            save_checkpoint(checkpoint_path, {
                "config": config.to_dict(), "net": net.state_dict(), "optimizer": optimizer.state_dict(),
                "step": step, "wall_seconds": wall, "history": history,
                "sampler_rng": list(sampler.rng.getstate()), "torch_rng": torch.get_rng_state(),
            })
            (run_dir / "history.json").write_text(json.dumps(history))
            save_loss_curve(history, run_dir / "loss.png")
        if step % config.preview_every == 0 or step == config.steps:
            save_grid(_previews(net, val_images, n_styles), run_dir / f"preview_{step:05d}.jpg")
    bar.close()
    return checkpoint_path

