"""Fine-tuning the any-style network (MicroAST, networks/microast.py) from its published weights on a frozen VGG16.

Every step pairs ``batch_size`` photo crops with as many painting crops; the loss per pair (each term a relative
squared error, losses.py):
* content: the output's ``content_layers`` features against the photo's (MicroAST eq. 6, at relu4_1);
* mean/std style: per-channel mean and std of the output's ``style_layers`` against the painting crop's (eq. 7);
* Gram: the output's Gram matrices at ``gram_layers`` against the painting crop's, for the correlations between
  channels that mean/std alone leaves free.
MicroAST's contrastive term (its style signal loss) is not used: it needs a batch of paintings against each other
and the network starts from weights already trained with it.

A run lives in one folder: ``checkpoint.pt`` (the network, the moving average of its weights, the optimiser, the
random generators' states and the step: a resumed run continues exactly where it stopped), ``history.json``,
``loss.png``, ``preview_<step>.jpg`` and ``validation.json``. Photos and paintings are split by file name
(data.split_validation); held-out ones are never trained on. The release ships the moving average
(``ema_decay``): single weights are noisy at batch 4.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from .backbones import load_backbone
from .checkpoints import load_checkpoint, random_state, save_checkpoint
from .data import CropSampler, list_images, split_validation
from .errors import CheckpointError
from .imageio import fit_within, open_image, to_tensor
from .losses import relative_mse, style_gram_loss, style_moment_loss
from .networks.microast import PUBLISHED_FILES, SCALE, MicroAST, load_published
from .ops import gram_matrix
from .plots import save_grid, save_loss_curve
from .sidecars import file_sha256
from .training import load_val_images


@dataclass(frozen=True)
class ArbitraryTrainConfig:
    content_dir: str
    style_dirs: tuple[str, ...]  # their paintings are pooled, then split (``n_val_styles`` held out)
    run_dir: str
    init_from: str  # a folder with MicroAST's four published files (networks.microast.PUBLISHED_FILES)
    steps: int = 800
    batch_size: int = 4
    crop_size: int = 192
    lr: float = 1e-4
    seed: int = 0
    n_val_photos: int = 60  # the presets' held-out photos (training.TrainConfig.n_val): one split for both
    n_val_styles: int = 64  # the paintings judged in docs/quality.md
    backbone: str = "vgg16-imagenet"
    content_layers: tuple[str, ...] = ("relu4_1",)
    content_weight: float = 1.0
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    style_weight: float = 1.0  # mean/std
    gram_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3")
    gram_weight: float = 2.0
    painting_zoom: float = 2.5  # paintings' short side drawn in [crop, crop * zoom] before cropping (data.CropSampler)
    ema_decay: float = 0.99  # each step moves the average (1 - ema_decay) of the way to the weights
    checkpoint_every: int = 25
    preview_every: int = 100

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict) -> "ArbitraryTrainConfig":
        """The config a checkpoint recorded (JSON turned its tuples into lists)."""
        try:
            return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})
        except TypeError as exc:
            raise CheckpointError(f"the run's config is not this engine's ({exc})") from exc


def split_photos(config: ArbitraryTrainConfig) -> tuple[list[Path], list[Path]]:
    """(train, held-out) photos."""
    return split_validation(list_images(Path(config.content_dir)), config.n_val_photos)


def split_paintings(config: ArbitraryTrainConfig) -> tuple[list[Path], list[Path]]:
    """(train, held-out) paintings of all ``style_dirs`` together."""
    return split_validation([p for d in config.style_dirs for p in list_images(Path(d))], config.n_val_styles)


def published_sha256(folder: Path) -> dict[str, str]:
    """The published files' SHA-256 by name, recorded with the run and in the release."""
    return {file: file_sha256(folder / file) for file in PUBLISHED_FILES.values()}


def pair_losses(net: MicroAST, vgg, photos: torch.Tensor, paintings: torch.Tensor,
                config: ArbitraryTrainConfig) -> dict[str, torch.Tensor]:
    """Photos and paintings (N, 3, S, S) 0-1 -> the output's unweighted loss terms and their weighted "total"."""
    out = net(photos, net.style_code(paintings))
    style_layers = tuple(dict.fromkeys(config.style_layers + config.gram_layers))
    with torch.no_grad():
        content_f = vgg(photos, config.content_layers)
        style_f = vgg(paintings, style_layers)
        grams = {name: gram_matrix(style_f[name]) for name in config.gram_layers}
    out_f = vgg(out, tuple(dict.fromkeys(config.content_layers + style_layers)))
    terms = {
        "content": sum(relative_mse(out_f[n], content_f[n]) for n in config.content_layers) / len(
            config.content_layers),
        "style": style_moment_loss(out_f, style_f, config.style_layers),
        "gram": style_gram_loss(out_f, grams, config.gram_layers),
    }
    terms["total"] = (config.content_weight * terms["content"] + config.style_weight * terms["style"]
                      + config.gram_weight * terms["gram"])
    return terms


def train_arbitrary(config: ArbitraryTrainConfig, *, show_progress: bool = True) -> Path:
    """Fine-tune (or resume) the any-style network; returns the checkpoint path."""
    torch.set_num_threads(1)  # the machine's other core serves the site and the tests
    run_dir = Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    vgg = load_backbone(config.backbone)
    train_photos, val_photos = split_photos(config)
    train_paintings, val_paintings = split_paintings(config)
    photos = CropSampler(train_photos, config.crop_size, config.seed)
    paintings = CropSampler(train_paintings, config.crop_size, config.seed + 1, max_zoom=config.painting_zoom)
    checkpoint_path = run_dir / "checkpoint.pt"
    started_from = published_sha256(Path(config.init_from))
    net = load_published(Path(config.init_from))
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    average = copy.deepcopy(net).requires_grad_(False)
    step, wall, history = 0, 0.0, []
    if checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path)
        # Only ``steps`` may change on resume. Tuples vs lists: compare as JSON.
        saved = ArbitraryTrainConfig.from_dict({**state["config"], "steps": config.steps})
        if json.loads(json.dumps(saved.to_dict())) != json.loads(json.dumps(config.to_dict())):
            raise CheckpointError(f"{checkpoint_path} was made with a different config; use a new run folder")
        if state["started_from"] != started_from:
            raise CheckpointError(f"{config.init_from} no longer holds the files this run started from")
        net.load_state_dict(state["net"])
        average.load_state_dict(state["average"])
        optimizer.load_state_dict(state["optimizer"])
        step, wall, history = state["step"], state["wall_seconds"], state["history"]
        photos.rng.setstate(random_state(state["photo_rng"]))
        paintings.rng.setstate(random_state(state["painting_rng"]))
        torch.set_rng_state(state["torch_rng"])
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    (run_dir / "validation.json").write_text(json.dumps(
        {"photos": [p.name for p in val_photos], "paintings": [p.name for p in val_paintings]}, indent=2))
    preview_photos = load_val_images(val_photos[:4], 256, SCALE)
    preview_paintings = [to_tensor(fit_within(open_image(p), 256)) for p in val_paintings[:4]]

    net.train()
    bar = tqdm(total=config.steps, initial=step, desc="train-arbitrary", unit="step", disable=not show_progress)
    while step < config.steps:
        started = time.perf_counter()
        terms = pair_losses(net, vgg, photos.batch(config.batch_size), paintings.batch(config.batch_size), config)
        optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        optimizer.step()
        with torch.no_grad():
            for mean, weight in zip(average.parameters(), net.parameters()):
                mean.lerp_(weight, 1.0 - config.ema_decay)
        step += 1
        wall += time.perf_counter() - started
        history.append({"step": step, **{k: round(v.item(), 5) for k, v in terms.items()}})
        bar.update(1)
        bar.set_postfix(loss=f"{history[-1]['total']:.3f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            save_checkpoint(checkpoint_path, {
                "config": config.to_dict(), "started_from": started_from, "net": net.state_dict(),
                "average": average.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "wall_seconds": wall, "history": history, "photo_rng": list(photos.rng.getstate()),
                "painting_rng": list(paintings.rng.getstate()), "torch_rng": torch.get_rng_state(),
            })
            (run_dir / "history.json").write_text(json.dumps(history))
            save_loss_curve(history, run_dir / "loss.png")
        if step % config.preview_every == 0 or step == config.steps:
            save_grid(_previews(average, preview_photos, preview_paintings), run_dir / f"preview_{step:05d}.jpg")
    bar.close()
    return checkpoint_path


def _previews(net: MicroAST, photos: list[torch.Tensor], paintings: list[torch.Tensor]) -> list[list]:
    """A grid: the paintings along the top, then per photo the photo and its renders."""
    with torch.no_grad():
        codes = [net.style_code(p) for p in paintings]
        rows = [[None] + paintings]
        rows += [[x] + [net(x, code).clamp(0, 1) for code in codes] for x in photos]
    return rows
