"""Training the arbitrary-style network through a frozen VGG loss network (AdaIN, Huang & Belongie 2017).

Two phases in one resumable run:
1. ``distill_steps`` steps distil the thin encoder from VGG16, or from a ``teacher``'s encoder (relative feature error
   at relu1_2, relu2_2 and relu3_1 on photo and painting crops); then the encoder is frozen.
2. The decoder trains. ``init_from`` may name an earlier release's ``arbitrary.pt`` to start from: all of it when it
   is this network, else its decoder (a dense first conv is factorised like the encoder's thin convs).

Every decoder step pairs ``batch_size`` photo crops with as many painting crops. Losses per pair:
* content loss (eq. 12): the output's VGG relu3_1 against the target features t it was decoded from (the photo's
  features whitened and coloured with the painting's, whitening.py);
* mean/std style loss (eq. 11) against the painting crop, plus ``gram_weight`` times the relative Gram error, on the
  presets' style layers (relu1_2, relu2_2, relu3_3, relu4_3): mean/std alone left the Gram distance twice the
  peer's (docs/arbitrary.md);
* with ``histogram_weight``, each channel's sorted values at those layers against the painting's (Risser et al.,
  "Stable and Controllable Neural Texture Synthesis and Style Transfer Using Histogram Losses", 2017): mean, std
  and Gram matrices leave the shape of each feature's distribution free, and our results had less contrast than the
  paintings (docs/engine.md, item 16);
* with ``structure_weight``, the output's VGG features at ``structure_layers`` against the photo's own (Johnson et
  al.'s content loss): the content term measures against t, which already carries the painting's statistics, not
  against the photo's forms (docs/engine.md, v8 and v9);
* a share of pairs (``reconstruct_share``) run at strength 0 (so t is the photo's own features) and must also give
  the photo back pixel for pixel (L1), so the strength control runs from the plain photo to full style.
With ``teacher`` (a weights folder with a released network) the network is distilled instead (Wang et al., CVPR
2020): on the same crops at the same strengths, its output must match the teacher's, in pixels (L1) and in VGG
features at the style layers, so a faster layout learns the teacher's balance of style and content rather than
finding its own; ``gram_weight`` then weighs the Gram matrices of those features against the teacher's, its texture:
without it the student drew the teacher's forms without its fine strokes (docs/engine.md, item 17). A student whose
encoder has the teacher's form takes the teacher's encoder, frozen, and decodes the same features and map. One of
another form (thinner, for speed) keeps its own encoder (from ``init_from``), distils it from the teacher's in the
``distill_steps`` (not from VGG16: the teacher's decoder was trained on the teacher's encoder), then decodes its own
features and map while the teacher decodes its own (item 18).
Photos go through the network with the engine's reflected margin (arbitrary.MARGIN), and the losses see only what the
margin leaves, so the decoder learns on the statistics and the borders it meets at inference: v4 was trained without
it and scored worse through the engine than in training (docs/engine.md). Paintings and photos are split by name;
held-out ones are never trained on. ``hue_jitter`` rotates the hue of half the painting crops, so that a few dozen
paintings give the decoder many palettes. With ``ema_decay`` the run also keeps an exponential moving average of the
decoder's weights, which the release ships: single checkpoints moved one pair's held-out Gram distance by up to 0.08
from one to the next.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import whitening
from .arbitrary import ENCODER_SCALE, IMAGE_MULTIPLE, MARGIN, load_arbitrary_net
from .backbones import load_backbone
from .configs import LossConfig
from .data import CropSampler, list_images, split_validation
from .errors import CheckpointError, InvalidOptionError
from .imageio import fit_within, open_image, to_tensor
from .networks.arbitrary import (DISTILL_LAYERS, ArbitraryConfig, ArbitraryStyleNet, apply_transform,
                                 separable_from_dense)
from .losses import content_loss, relative_mse, style_gram_loss
from .ops import gram_matrix, mean_std
from .plots import save_grid, save_loss_curve
from .training import _save_checkpoint, _tuples, load_checkpoint, load_val_images


@dataclass(frozen=True)
class ArbitraryTrainConfig:
    content_dir: str
    style_dir: str
    run_dir: str
    steps: int = 2000
    batch_size: int = 4
    crop_size: int = 192
    lr: float = 1e-3
    seed: int = 0
    n_val_photos: int = 60
    n_val_styles: int = 5
    content_layers: tuple[str, ...] = ("relu3_1",)  # must be the encoder's layer: the target is the WCT output
    style_layers: tuple[str, ...] = LossConfig.style_layers
    content_weight: float = 1.0
    style_weight: float = 3.0
    gram_weight: float = 0.0
    histogram_weight: float = 0.0  # sorted features against the painting's, at style_layers (sorted_distance)
    distill_steps: int = 0
    init_from: str | None = None
    reconstruct_share: float = 0.15
    hue_jitter: float = 0.0  # paintings' hue rotated by up to this share of the colour wheel (data.CropSampler)
    ema_decay: float = 0.0  # 0: no average; else each decoder step moves the average (1 - ema_decay) of the way
    structure_weight: float = 0.0  # the output's VGG features against the photo's, at structure_layers
    structure_layers: tuple[str, ...] = ("relu2_2",)
    skip_lr: float | None = None  # the content skip's learning rate (None: ``lr``); it starts at zero (Decoder)
    # With net.balance: the painting's terms' weight over the photo's at balance 1, against 1 at balance 0
    # (balance_weights), and the Modulation parameters' learning rate (None: ``lr``; they start at zero).
    balance_range: float = 8.0
    balance_lr: float | None = None
    teacher: str | None = None  # a weights folder whose arbitrary network this one learns to reproduce
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


def _per_sample_relative(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N, ...) pairs -> (N,) of ||value - target||^2 / ||target||^2."""
    n = value.shape[0]
    return (value - target).reshape(n, -1).pow(2).sum(1) / target.reshape(n, -1).pow(2).sum(1).clamp_min(1e-8)


_HISTOGRAM_POSITIONS = 4096  # positions per channel sorted for the histogram term (all of relu1_2's: ~9 s a step)


def sorted_distance(value: torch.Tensor, target: torch.Tensor, positions: int = _HISTOGRAM_POSITIONS
                    ) -> torch.Tensor:
    """(N, C, H, W) features against (N, C, H', W') ones -> (N,): how far each channel's distribution of values is
    from the target's, whatever their places (exact histogram matching, Risser et al. 2017).

    Each value is compared with the target's value of the same rank (the target's ranks taken evenly to as many as
    ``value`` has), i.e. the relative squared error between the two sorted channels. Above ``positions`` positions a
    random subset of them is taken, the same for every channel. The ranks are found with numpy, whose sort is ~7x
    torch's on this CPU; the gradient flows through the values as usual."""
    n, c = value.shape[:2]
    mine = value.reshape(n, c, -1)
    if mine.shape[2] > positions:
        mine = mine[:, :, torch.randperm(mine.shape[2])[:positions]]
    theirs = np.sort(target.detach().reshape(n, c, -1).numpy(), axis=2)
    theirs = theirs[:, :, np.linspace(0, theirs.shape[2] - 1, mine.shape[2]).round().astype(int)]
    matched = np.empty_like(theirs)
    np.put_along_axis(matched, np.argsort(mine.detach().numpy(), axis=2), theirs, axis=2)
    return _per_sample_relative(mine, torch.from_numpy(matched))


def pair_losses(out_f: dict, content_f: dict, style_f: dict, config: ArbitraryTrainConfig,
                photo_f: dict | None = None) -> dict[str, torch.Tensor]:
    """Per-sample (N,) content, mean/std style, Gram and histogram distances (Gram and histogram only when their
    weights are set), and the structure distance to the photo's VGG features ``photo_f`` when given."""
    content = sum(_per_sample_relative(out_f[n], content_f[n]) for n in config.content_layers) / len(
        config.content_layers)
    structure = 0.0
    if photo_f is not None:
        structure = sum(_per_sample_relative(out_f[n], photo_f[n]) for n in config.structure_layers) / len(
            config.structure_layers)
    style = gram = histogram = 0.0
    for name in config.style_layers:
        mean, std = mean_std(out_f[name])
        t_mean, t_std = mean_std(style_f[name])
        style = style + _per_sample_relative(mean, t_mean) + _per_sample_relative(std, t_std)
        if config.gram_weight:
            gram = gram + _per_sample_relative(gram_matrix(out_f[name]), gram_matrix(style_f[name]))
        if config.histogram_weight:
            histogram = histogram + sorted_distance(out_f[name], style_f[name])
    n = len(config.style_layers)
    return {"content": content, "style": style / n, "gram": gram / n, "histogram": histogram / n,
            "structure": structure}


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
_NEW_PARTS = ("decoder.residual.", "decoder.coarse.", "decoder.skip.", "decoder.modulation.")


def _factorise_dense(layers: torch.nn.Sequential, old: dict[str, torch.Tensor], prefix: str
                     ) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Where a layer of ``layers`` is separable but ``old`` (a state dict whose keys start with ``prefix`` plus the
    layer's index) holds it as a dense 3x3 conv, put that conv's factorisation (at the layer's rank) in its place.
    Returns ``old`` without those layers' keys, and their key prefixes."""
    converted = []
    for index, layer in enumerate(layers):
        key = f"{prefix}{index}."
        weight = old.get(f"{key}weight")
        if isinstance(layer, torch.nn.Sequential) and weight is not None:
            dense = torch.nn.Conv2d(weight.shape[1], weight.shape[0], 3, 1, 1)
            dense.load_state_dict({"weight": weight, "bias": old[f"{key}bias"]})
            layers[index] = separable_from_dense(dense, rank=layer[0].out_channels // layer[0].in_channels)
            converted.append(key)
            old = {k: v for k, v in old.items() if not k.startswith(key)}
    return old, converted


def _warm_start(net: ArbitraryStyleNet, path: Path) -> None:
    """Start from an earlier release: all of it if it is this network (new residual blocks and a new coarse path
    start as the identity), else its decoder, with a dense layer where this one is separable factorised, and of its
    encoder what fits: convs of the same form, and dense convs this encoder makes thin, factorised (distillation
    trains every conv of the encoder, so the earlier release's are closer to what its decoder knows than VGG's)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        result = net.load_state_dict(state, strict=False)
        if not result.unexpected_keys and all(k.startswith(_NEW_PARTS) for k in result.missing_keys):
            return
    except RuntimeError:  # another encoder or decoder: take what fits below
        pass
    old_encoder, _ = _factorise_dense(net.encoder.vgg.layers, {
        k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}, "vgg.layers.")
    own = net.encoder.state_dict()
    net.encoder.load_state_dict({k: v for k, v in old_encoder.items() if k in own and own[k].shape == v.shape},
                                strict=False)
    old, converted = _factorise_dense(net.decoder.layers, {
        k.removeprefix("decoder."): v for k, v in state.items() if k.startswith("decoder.")}, "layers.")
    if net.config.fold_transform and "layers.0.1.bias" in old:  # a separable first layer, depthwise then 1x1
        _take_separable(net.decoder.layers[0][0], old, "layers.0.")
        converted.append("layers.0.")
    if net.config.pointwise_first:
        for index in net.decoder.UPSAMPLING:
            key = f"layers.{index + 1}."
            if f"layers.{index}.weight" not in old and f"{key}1.bias" in old:  # upsampling, then depthwise and 1x1
                _take_separable(net.decoder.layers[index], old, key)
                converted += [f"layers.{index}.", key]
    try:
        result = net.decoder.load_state_dict(old, strict=False)
    except RuntimeError as exc:  # a tensor of another shape
        raise CheckpointError(f"{path} does not fit this decoder ({exc})") from exc
    new_parts = tuple(part.removeprefix("decoder.") for part in _NEW_PARTS)
    missing = [k for k in result.missing_keys if not k.startswith(tuple(converted) + new_parts)]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"{path} does not fit this decoder (missing {missing}, unexpected "
                              f"{result.unexpected_keys})")


def _take_separable(pointwise: torch.nn.Conv2d, old: dict[str, torch.Tensor], key: str) -> None:
    """``pointwise`` (a 1x1 conv, followed by a depthwise conv that starts as the identity) takes the separable conv
    (depthwise then 1x1) at ``key`` in the state dict ``old``, with each depthwise kernel's sum as a gain on its input
    channel: the same layer for inputs that are flat over 3x3. Dropping the kernels alone took a release's held-out
    Gram distance from 0.24 to 0.68 (docs/engine.md, item 12). Pops the conv's keys from ``old``."""
    gain = old.pop(f"{key}0.weight").sum(dim=(1, 2, 3))
    with torch.no_grad():
        pointwise.weight.copy_(old.pop(f"{key}1.weight") * gain[None, :, None, None])
        pointwise.bias.copy_(old.pop(f"{key}1.bias"))


def _decoder_groups(net: ArbitraryStyleNet, config: ArbitraryTrainConfig) -> list[dict]:
    """The decoder's parameters for Adam, the content skip's at ``skip_lr`` and the balance's Modulations' at
    ``balance_lr``: parts that start at zero, which at a fine-tuning lr of 1e-4 reached ~2% of the first layer's
    output in 300 steps (the skip)."""
    own = [(part, lr) for part, lr in ((net.decoder.skip, config.skip_lr), (net.decoder.modulation, config.balance_lr))
           if part is not None and lr is not None]
    taken = {id(p) for part, _ in own for p in part.parameters()}
    return [{"params": [p for p in net.decoder.parameters() if id(p) not in taken]}] + [
        {"params": list(part.parameters()), "lr": lr} for part, lr in own]


def balance_weights(balance: torch.Tensor, balance_range: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Balances (N,) in [-1, 1] -> the factors on each pair's photo term (structure) and on its painting terms
    (mean/std, Gram, histogram, and content against the stylized target t): the painting's weigh
    ``balance_range ** balance`` times as much against the photo's as at balance 0, split evenly between the two so
    that the loss keeps its scale."""
    half = torch.as_tensor(balance_range, dtype=balance.dtype) ** (balance / 2)
    return 1 / half, half


def _distill_step(net: ArbitraryStyleNet, source, images: torch.Tensor, optimizer) -> dict:
    """One step of the encoder towards ``source`` (VGG16, or a teacher's encoder: a VGGFeatures either way)."""
    with torch.no_grad():
        teacher = source(images, DISTILL_LAYERS)
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
    # After the warm start, whose release may have an encoder of the teacher's form but other weights.
    teacher = _load_teacher(Path(config.teacher), net, config) if config.teacher else None
    source = teacher.encoder.vgg if teacher is not None else vgg
    encoder_optimizer = torch.optim.Adam(net.encoder.parameters(), lr=config.lr)
    optimizer = torch.optim.Adam(_decoder_groups(net, config), lr=config.lr)
    photos = CropSampler(train_photos, config.crop_size, config.seed)
    paintings = CropSampler(train_styles, config.crop_size, config.seed + 1, max_zoom=2.5,
                            hue_jitter=config.hue_jitter)

    step, wall, history, state = 0, 0.0, [], {}
    if checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path)
        # Options added since the checkpoint was made had their defaults then. Tuples vs lists: compare as JSON.
        defaults = {f.name: f.default for f in fields(ArbitraryTrainConfig) if f.default is not MISSING}
        saved = {**defaults, **state["config"], "steps": config.steps}
        saved["net"] = {**ArbitraryConfig().to_dict(), **saved.get("net", {})}
        saved = json.loads(json.dumps(saved))
        if saved != json.loads(json.dumps(config.to_dict())):
            raise CheckpointError(f"{checkpoint_path} was made with a different config; use a new run folder")
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        encoder_optimizer.load_state_dict(state["encoder_optimizer"])
        step, wall, history = state["step"], state["wall_seconds"], state["history"]
        photos.rng.setstate(_tuples(state["photo_rng"]))
        paintings.rng.setstate(_tuples(state["painting_rng"]))
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
            record = _distill_step(net, source, torch.cat([photos.batch(config.batch_size),
                                                        paintings.batch(config.batch_size)]), encoder_optimizer)
        else:
            batch = photos.batch(config.batch_size), paintings.batch(config.batch_size)
            if teacher is None:
                record = _decoder_step(net, vgg, *batch, optimizer, config)
            else:
                record = _teacher_step(net, vgg, *batch, optimizer, config, teacher)
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
            _save_checkpoint(checkpoint_path, {
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
        photo_f = vgg(content, config.structure_layers) if config.structure_weight else None
    balance = torch.rand(content.shape[0]) * 2 - 1 if net.config.balance else torch.zeros(content.shape[0])
    on_content, on_style = balance_weights(balance, config.balance_range)
    out = cut_margin(net(content_f, matrix, bias, balance))  # a decoder without a balance ignores it
    content_f = {name: cut_margin(target, ENCODER_SCALE) for name in config.content_layers}
    out_f = vgg(out, tuple(dict.fromkeys(config.content_layers + config.style_layers + config.structure_layers)))
    per = pair_losses(out_f, content_f, style_f, config, photo_f)
    stylized = (~reconstruct).float()
    pixel = (out - content).abs().mean(dim=(1, 2, 3))
    # The content term measures against t, which carries the painting's statistics: it goes with the painting's terms.
    # Weighted with the photo's structure term instead, 200 steps took balance -1 to 7 % less content distance than
    # balance 0 on training pairs, for 31 % more Gram distance (docs/engine.md, item 20).
    styled = on_style * (config.style_weight * per["style"] + config.gram_weight * per["gram"] + (
        config.histogram_weight * per["histogram"]) + config.content_weight * per["content"]) + (
        on_content * config.structure_weight * per["structure"])
    loss_per = stylized * styled + reconstruct.float() * (10.0 * pixel + config.content_weight * per["content"])
    loss = loss_per.mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    n_styl = max(1.0, stylized.sum().item())
    record = {"total": round(loss.item(), 5)}
    weights = {"content": 1, "style": 1, "gram": config.gram_weight, "histogram": config.histogram_weight,
               "structure": config.structure_weight}
    for key in (key for key, weight in weights.items() if weight):
        record[key] = round((per[key] * stylized).sum().item() / n_styl, 5)
    return record


def _load_teacher(folder: Path, net: ArbitraryStyleNet, config: ArbitraryTrainConfig) -> ArbitraryStyleNet:
    """The teacher's network, frozen; ``net`` takes its encoder if it has the same form."""
    teacher, _ = load_arbitrary_net(folder)
    if _shares_encoder(net, teacher):
        if config.distill_steps:
            raise InvalidOptionError(f"this network's encoder has the teacher's form ({net.config.thin_convs}), so it "
                                     f"takes the teacher's; there is nothing to distil (distill steps)")
        net.encoder.load_state_dict(teacher.encoder.state_dict())
    return teacher


def _shares_encoder(net: ArbitraryStyleNet, teacher: ArbitraryStyleNet) -> bool:
    return teacher.config.thin_convs == net.config.thin_convs


def _teacher_step(net: ArbitraryStyleNet, vgg, content: torch.Tensor, style: torch.Tensor, optimizer,
                  config: ArbitraryTrainConfig, teacher: ArbitraryStyleNet) -> dict:
    reconstruct = _reconstructing(content, config)
    content_f, matrix, bias = _sample_maps(net.encoder, content, style, reconstruct)
    # An encoder of another form gives other features: the teacher paints the same crops from its own.
    teacher_maps = (content_f, matrix, bias) if _shares_encoder(net, teacher) else _sample_maps(
        teacher.encoder, content, style, reconstruct)
    with torch.no_grad():
        target = cut_margin(teacher(*teacher_maps))
        target_f = vgg(target, config.style_layers)
    out = cut_margin(net(content_f, matrix, bias))
    out_f = vgg(out, config.style_layers)
    terms = {"pixel": (out - target).abs().mean(), "features": content_loss(out_f, target_f, config.style_layers)}
    if config.gram_weight:
        grams = {name: gram_matrix(target_f[name]) for name in config.style_layers}
        terms["gram"] = style_gram_loss(out_f, grams, config.style_layers)
    loss = 10.0 * terms["pixel"] + terms["features"] + config.gram_weight * terms.get("gram", 0.0)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"total": round(loss.item(), 5), **{k: round(v.item(), 5) for k, v in terms.items()}}


def _previews(net: ArbitraryStyleNet, photos, styles) -> list[list[torch.Tensor]]:
    net.eval()
    rows = [[torch.zeros(1, 3, 8, 8)] + styles]
    rows += [[x] + [stylize_tensors(net, x, s) for s in styles] for x in photos]
    net.train()
    return rows


def style_distances(vgg, output: torch.Tensor, style: torch.Tensor, content: torch.Tensor,
                    layers=("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
                    content_layers=("relu2_2", "relu3_3")) -> dict[str, float]:
    """Quality of one result, all images (1, 3, H, W) 0-1: Gram and mean/std distance to the style, and content
    distance to the photo, on VGG16 features. Lower is better for all three."""
    with torch.no_grad():
        f_out = vgg(output, tuple(dict.fromkeys(layers + content_layers)))
        f_style = vgg(style, layers)
        f_content = vgg(content, content_layers)
        gram = sum(_per_sample_relative(gram_matrix(f_out[n]), gram_matrix(f_style[n])).item() for n in layers)
        moments = 0.0
        for name in layers:
            (m, s), (tm, ts) = mean_std(f_out[name]), mean_std(f_style[name])
            moments += _per_sample_relative(m, tm).item() + _per_sample_relative(s, ts).item()
        content_d = sum(_per_sample_relative(f_out[n], f_content[n]).item() for n in content_layers)
    return {"gram": gram / len(layers), "mean_std": moments / len(layers), "content": content_d / len(content_layers)}
