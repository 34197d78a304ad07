"""Training the arbitrary-style network through a frozen VGG loss network (AdaIN, Huang & Belongie 2017).

Two phases in one resumable run:
1. ``distill_steps`` steps distil the thin encoder from VGG16 (relative feature error at relu1_2, relu2_2 and relu3_1
   on photo and painting crops); then the encoder is frozen.
2. The decoder trains. ``init_from`` may name an earlier release's ``arbitrary.pt`` to start from; parts this network
   has and the release lacks (residual blocks, the coarse path, the content skip) start at zero, as the identity.

Every decoder step pairs ``batch_size`` photo crops with as many painting crops. Losses per pair:
* content loss (eq. 12): the output's VGG relu3_1 against the target features t it was decoded from (the photo's
  features whitened and coloured with the painting's, whitening.py);
* mean/std style loss (eq. 11) against the painting crop, plus ``gram_weight`` times the relative Gram error, on the
  presets' style layers (relu1_2, relu2_2, relu3_3, relu4_3): mean/std alone leaves the Gram distance high;
* ``structure_weight`` times the output's VGG features at ``structure_layers`` against the photo's own (Johnson et
  al.'s content loss): the content term measures against t, which already carries the painting's statistics, not
  against the photo's forms;
* a share of pairs (``reconstruct_share``) run at strength 0 (so t is the photo's own features) and must also give
  the photo back pixel for pixel (L1), so the strength control runs from the plain photo to full style.
Photos go through the network with the engine's reflected margin (arbitrary.MARGIN), and the losses see only what the
margin leaves, so the decoder learns on the statistics and the borders it meets at inference. Paintings and photos
are split by name; held-out ones are never trained on. ``hue_jitter`` rotates the hue of half the painting crops, so
that a few dozen paintings give the decoder many palettes. With ``ema_decay`` the run also keeps an exponential
moving average of the decoder's weights, which the release ships: single checkpoints are noisy at batch 4.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import whitening
from .arbitrary import ENCODER_SCALE, IMAGE_MULTIPLE, MARGIN
from .backbones import load_backbone
from .checkpoints import load_checkpoint, random_state, save_checkpoint
from .configs import LossConfig
from .data import CropSampler, list_images, split_validation
from .errors import CheckpointError, InvalidOptionError
from .imageio import fit_within, open_image, to_tensor
from .losses import relative_mse
from .metrics import per_sample_relative
from .networks.arbitrary import DISTILL_LAYERS, ArbitraryConfig, ArbitraryStyleNet, apply_transform
from .ops import gram_matrix, mean_std
from .plots import save_grid, save_loss_curve
from .training import TrainConfig, load_val_images

# Options of runs that were never shipped, removed from the code, with the value that turns each off; the shipped
# network's metadata names them at that value.
RETIRED_OPTIONS = {"histogram_weight": 0.0, "teacher": None, "balance_range": 8.0, "balance_lr": None}


@dataclass(frozen=True)
class ArbitraryTrainConfig:
    content_dir: str
    style_dir: str
    run_dir: str
    steps: int = 800
    batch_size: int = 4
    crop_size: int = 192
    lr: float = 2e-4
    seed: int = 0
    n_val_photos: int = TrainConfig.n_val  # the presets' held-out photos: both networks share one split
    n_val_styles: int = 5
    content_layers: tuple[str, ...] = ("relu3_1",)  # must be the encoder's layer: the target is the WCT output
    style_layers: tuple[str, ...] = LossConfig.style_layers
    content_weight: float = 0.2
    style_weight: float = 4.0  # mean/std
    gram_weight: float = 8.0
    distill_steps: int = 0
    init_from: str | None = None
    reconstruct_share: float = 0.15
    reconstruct_pixel_weight: float = 10.0  # L1 to the photo, for the pairs at strength 0
    hue_jitter: float = 0.5  # paintings' hue rotated by up to this share of the colour wheel (data.CropSampler)
    ema_decay: float = 0.99  # 0: no average; else each decoder step moves the average (1 - ema_decay) of the way
    structure_weight: float = 2.0  # the output's VGG features against the photo's, at structure_layers
    structure_layers: tuple[str, ...] = ("relu2_2", "relu3_3")
    skip_lr: float | None = 1e-3  # the content skip's learning rate (None: ``lr``); it starts at zero (Decoder)
    checkpoint_every: int = 50
    preview_every: int = 250
    # The encoder is distilled from this backbone and the content loss compares the output's features with the
    # encoder's, so both live in its space: the shipped encoder (Caffe input convention) is HED's.
    backbone: str = "vgg16-hed"
    net: ArbitraryConfig = field(default_factory=ArbitraryConfig)

    def __post_init__(self):
        if self.crop_size % IMAGE_MULTIPLE:
            raise InvalidOptionError(f"crop size must be a multiple of {IMAGE_MULTIPLE} px (the decoder's coarse path "
                                     f"halves the encoder's features once more), not {self.crop_size}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict) -> "ArbitraryTrainConfig":
        """The config a checkpoint or a release recorded; see :func:`current_options`."""
        options = current_options(saved)
        options["net"] = ArbitraryConfig.from_dict(options.get("net", {}))
        tuples = {k: tuple(v) for k, v in options.items() if isinstance(v, list)}
        return cls(**{**options, **tuples})


def current_options(saved: dict) -> dict:
    """A recorded run config without the retired options, which it may name at their "off" value only."""
    needed = {k: v for k, v in saved.items() if k in RETIRED_OPTIONS and v != RETIRED_OPTIONS[k]}
    if needed:
        raise CheckpointError(f"this run used {', '.join(sorted(needed))}, which the engine no longer has")
    return {k: v for k, v in saved.items() if k not in RETIRED_OPTIONS}


def pair_losses(out_f: dict, content_f: dict, style_f: dict, photo_f: dict, config: ArbitraryTrainConfig
                ) -> dict[str, torch.Tensor]:
    """Per-sample (N,) content (against t), mean/std style, Gram and structure (against the photo) distances."""
    content = sum(per_sample_relative(out_f[n], content_f[n]) for n in config.content_layers) / len(
        config.content_layers)
    structure = sum(per_sample_relative(out_f[n], photo_f[n]) for n in config.structure_layers) / len(
        config.structure_layers)
    style = gram = 0.0
    for name in config.style_layers:
        mean, std = mean_std(out_f[name])
        t_mean, t_std = mean_std(style_f[name])
        style = style + per_sample_relative(mean, t_mean) + per_sample_relative(std, t_std)
        gram = gram + per_sample_relative(gram_matrix(out_f[name]), gram_matrix(style_f[name]))
    n = len(config.style_layers)
    return {"content": content, "style": style / n, "gram": gram / n, "structure": structure}


def add_margin(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H + 2 * MARGIN, W + 2 * MARGIN), reflected, as the engine pads photos (arrays.py)."""
    return torch.nn.functional.pad(images, (MARGIN,) * 4, mode="reflect")


def cut_margin(tensor: torch.Tensor, scale: int = 1) -> torch.Tensor:
    """Undo :func:`add_margin` on an image (``scale`` 1) or on features at 1/``scale`` of its resolution."""
    m = MARGIN // scale
    return tensor[..., m:tensor.shape[-2] - m, m:tensor.shape[-1] - m]


def feature_transforms(content_f: torch.Tensor, style_f: torch.Tensor, strength: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pair, the WCT map (matrix (N, C, C), bias (N, C)) from encoder features and strengths (N,): the same numpy
    code inference runs (whitening.py)."""
    maps = [whitening.transform(whitening.feature_stats(c.numpy()), whitening.style_code(s.numpy()), float(a))
            for c, s, a in zip(content_f, style_f, strength)]
    return torch.from_numpy(np.stack([m for m, _ in maps])), torch.from_numpy(np.stack([b for _, b in maps]))


def stylize_tensors(net: ArbitraryStyleNet, content: torch.Tensor, style: torch.Tensor, strength: float = 1.0
                    ) -> torch.Tensor:
    """Photos (N, 3, H, W; H, W multiples of 8) in the styles of paintings (N, 3, h, w), or of one painting (1, ...)."""
    with torch.no_grad():
        content_f, style_f = net.encoder(add_margin(content)), net.encoder(style)
        style_f = style_f.expand(content_f.shape[0], *style_f.shape[1:])
        matrix, bias = feature_transforms(content_f, style_f, torch.full((content_f.shape[0],), strength))
        return cut_margin(net(content_f, matrix, bias))


# Zero-initialised, so an earlier release without them needs nothing there.
_NEW_PARTS = ("decoder.residual.", "decoder.coarse.", "decoder.skip.")


def _warm_start(net: ArbitraryStyleNet, path: Path) -> None:
    """Start from an earlier release of this network; parts it lacks (:data:`_NEW_PARTS`) keep their zero start,
    so the network renders what the release rendered."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        result = net.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a tensor of another shape
        raise CheckpointError(f"{path} does not fit this network ({exc})") from exc
    missing = [k for k in result.missing_keys if not k.startswith(_NEW_PARTS)]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"{path} does not fit this network (missing {missing}, unexpected "
                              f"{result.unexpected_keys})")


def _decoder_groups(net: ArbitraryStyleNet, config: ArbitraryTrainConfig) -> list[dict]:
    """The decoder's parameters for Adam, the content skip's at ``skip_lr``: it starts at zero, and at a
    fine-tuning lr of 1e-4 it reached ~2% of the first layer's output in 300 steps."""
    skip = net.decoder.skip
    if skip is None or config.skip_lr is None:
        return [{"params": list(net.decoder.parameters())}]
    taken = {id(p) for p in skip.parameters()}
    return [{"params": [p for p in net.decoder.parameters() if id(p) not in taken]},
            {"params": list(skip.parameters()), "lr": config.skip_lr}]


def _distill_step(net: ArbitraryStyleNet, vgg, images: torch.Tensor, optimizer) -> dict:
    """One step of the encoder towards VGG16's features."""
    with torch.no_grad():
        teacher = vgg(images, DISTILL_LAYERS)
    student = net.encoder.features(images)
    losses = {name: relative_mse(student[name], teacher[name]) for name in DISTILL_LAYERS}
    loss = sum(losses.values()) / len(losses)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"total": round(loss.item(), 5), **{f"distill_{k}": round(v.item(), 5) for k, v in losses.items()}}


def split_paintings(style_dir: Path, n_val: int) -> tuple[list[Path], list[Path]]:
    return split_validation(list_images(style_dir), n_val)


def train_arbitrary(config: ArbitraryTrainConfig, *, show_progress: bool = True) -> Path:
    """Train (or resume) the arbitrary-style network; returns the checkpoint path."""
    run_dir = Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    vgg = load_backbone(config.backbone)
    train_photos, val_photos = split_validation(list_images(Path(config.content_dir)), config.n_val_photos)
    train_styles, val_styles = split_paintings(Path(config.style_dir), config.n_val_styles)
    net = ArbitraryStyleNet(config.net)
    net.load_encoder(vgg)
    checkpoint_path = run_dir / "checkpoint.pt"
    if config.init_from and not checkpoint_path.exists():  # a resumed run has its own weights
        _warm_start(net, Path(config.init_from))
    encoder_optimizer = torch.optim.Adam(net.encoder.parameters(), lr=config.lr)
    optimizer = torch.optim.Adam(_decoder_groups(net, config), lr=config.lr)
    photos = CropSampler(train_photos, config.crop_size, config.seed)
    paintings = CropSampler(train_styles, config.crop_size, config.seed + 1, max_zoom=2.5,
                            hue_jitter=config.hue_jitter)

    step, wall, history, state = 0, 0.0, [], {}
    if checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path)
        # Only ``steps`` may change on resume. Tuples vs lists: compare as JSON.
        saved = ArbitraryTrainConfig.from_dict({**state["config"], "steps": config.steps})
        if json.loads(json.dumps(saved.to_dict())) != json.loads(json.dumps(config.to_dict())):
            raise CheckpointError(f"{checkpoint_path} was made with a different config; use a new run folder")
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        encoder_optimizer.load_state_dict(state["encoder_optimizer"])
        step, wall, history = state["step"], state["wall_seconds"], state["history"]
        photos.rng.setstate(random_state(state["photo_rng"]))
        paintings.rng.setstate(random_state(state["painting_rng"]))
        torch.set_rng_state(state["torch_rng"])
    average = copy.deepcopy(net.decoder).requires_grad_(False) if config.ema_decay else None
    if average is not None and "decoder_average" in state:
        average.load_state_dict(state["decoder_average"])
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    (run_dir / "validation.json").write_text(json.dumps(
        {"photos": [p.name for p in val_photos], "paintings": [p.name for p in val_styles]}, indent=2))
    preview_photos = load_val_images(val_photos[:4], 256, IMAGE_MULTIPLE)
    preview_styles = [to_tensor(fit_within(open_image(p), 256)) for p in val_styles]

    net.train()
    bar = tqdm(total=config.steps, initial=step, desc="train-arbitrary", unit="step", disable=not show_progress)
    while step < config.steps:
        started = time.perf_counter()
        distilling = step < config.distill_steps
        net.encoder.requires_grad_(distilling)
        if distilling:
            record = _distill_step(net, vgg, torch.cat([photos.batch(config.batch_size),
                                                     paintings.batch(config.batch_size)]), encoder_optimizer)
        else:
            record = _decoder_step(net, vgg, photos.batch(config.batch_size), paintings.batch(config.batch_size),
                                   optimizer, config)
            if average is not None:
                with torch.no_grad():
                    for mean, weight in zip(average.parameters(), net.decoder.parameters()):
                        mean.lerp_(weight, 1.0 - config.ema_decay)
        step += 1
        wall += time.perf_counter() - started
        history.append({"step": step, **record})
        bar.update(1)
        bar.set_postfix(loss=f"{record['total']:.3f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            save_checkpoint(checkpoint_path, {
                "config": config.to_dict(), "net": net.state_dict(), "optimizer": optimizer.state_dict(),
                "encoder_optimizer": encoder_optimizer.state_dict(),
                "step": step, "wall_seconds": wall, "history": history,
                "photo_rng": list(photos.rng.getstate()), "painting_rng": list(paintings.rng.getstate()),
                "torch_rng": torch.get_rng_state(),
                **({"decoder_average": average.state_dict()} if average is not None else {}),
            })
            (run_dir / "history.json").write_text(json.dumps(history))
            save_loss_curve(history, run_dir / "loss.png")
        if step % config.preview_every == 0 or step == config.steps:
            save_grid(_previews(net, preview_photos, preview_styles), run_dir / f"preview_{step:05d}.jpg")
    bar.close()
    return checkpoint_path


def _sample_maps(encoder, content: torch.Tensor, style: torch.Tensor, reconstruct: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The photos' features (with the margin) and each pair's map, at strength 0 where ``reconstruct`` (N,)."""
    with torch.no_grad():
        content_f = encoder(add_margin(content))
        matrix, bias = feature_transforms(content_f, encoder(style), (~reconstruct).float())
    return content_f, matrix, bias


def _reconstructing(content: torch.Tensor, config: ArbitraryTrainConfig) -> torch.Tensor:
    """Which pairs of the batch run at strength 0 (N,)."""
    return torch.rand(content.shape[0]) < config.reconstruct_share


def _decoder_step(net: ArbitraryStyleNet, vgg, content: torch.Tensor, style: torch.Tensor, optimizer,
                  config: ArbitraryTrainConfig) -> dict:
    reconstruct = _reconstructing(content, config)
    content_f, matrix, bias = _sample_maps(net.encoder, content, style, reconstruct)
    with torch.no_grad():
        target = apply_transform(content_f, matrix, bias)
        style_f = vgg(style, config.style_layers)
        photo_f = vgg(content, config.structure_layers)
    out = cut_margin(net(content_f, matrix, bias))
    content_f = {name: cut_margin(target, ENCODER_SCALE) for name in config.content_layers}
    out_f = vgg(out, tuple(dict.fromkeys(config.content_layers + config.style_layers + config.structure_layers)))
    per = pair_losses(out_f, content_f, style_f, photo_f, config)
    stylized = (~reconstruct).float()
    pixel = (out - content).abs().mean(dim=(1, 2, 3))
    styled = (config.style_weight * per["style"] + config.gram_weight * per["gram"]
              + config.content_weight * per["content"] + config.structure_weight * per["structure"])
    reconstruction_loss = config.reconstruct_pixel_weight * pixel + config.content_weight * per["content"]
    loss_per = stylized * styled + reconstruct.float() * reconstruction_loss
    loss = loss_per.mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    n_styl = max(1.0, stylized.sum().item())
    record = {"total": round(loss.item(), 5)}
    weights = {"content": 1, "style": 1, "gram": config.gram_weight, "structure": config.structure_weight}
    for key in (key for key, weight in weights.items() if weight):
        record[key] = round((per[key] * stylized).sum().item() / n_styl, 5)
    return record


def _previews(net: ArbitraryStyleNet, photos, styles) -> list[list[torch.Tensor]]:
    net.eval()
    rows = [[torch.zeros(1, 3, 8, 8)] + styles]
    rows += [[x] + [stylize_tensors(net, x, s) for s in styles] for x in photos]
    net.train()
    return rows
