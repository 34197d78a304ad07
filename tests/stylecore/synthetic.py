"""Synthetic photos, paintings and a tiny training configuration, shared by the engine's tests."""

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from stylecore.configs import LossConfig
from stylecore.networks import TransformerConfig
from stylecore.training import TrainConfig

REPO = Path(__file__).resolve().parents[2]
PRESET_NAMES = ("starry_night", "great_wave")


def draw_photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A smooth, photo-like RGB image: a colour gradient with a few soft shapes."""
    rng = random.Random(seed)
    w, h = size
    image = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    image = Image.merge("RGB", [band.point(lambda v, k=rng.uniform(0.3, 1.0): int(v * k)) for band in image.split()])
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.randint(min(w, h) // 6, min(w, h) // 3)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(1.5))


def draw_painting(size: int, seed: int) -> Image.Image:
    """A strongly textured style image: bold random colour strokes."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size), rng.randrange(size)
        draw.line((x, y, x + rng.randint(-20, 20), y + rng.randint(-20, 20)),
                  fill=tuple(rng.randrange(256) for _ in range(3)), width=rng.randint(2, 5))
    return image


def tiny_train_config(root: Path, run_dir: Path, steps: int) -> TrainConfig:
    """A training run small enough for the test suite: 32 px crops, an 8-wide network, one residual block."""
    content = root / "content"
    styles = root / "styles"
    if not content.exists():
        content.mkdir(parents=True)
        styles.mkdir(parents=True)
        for index in range(6):
            draw_photo((64, 48), seed=index).save(content / f"photo_{index}.png")
        for index, name in enumerate(PRESET_NAMES):
            draw_painting(64, seed=100 + index).save(styles / f"{name}.png")
    return TrainConfig(
        content_dir=str(content), style_paths=tuple(str(styles / f"{n}.png") for n in PRESET_NAMES),
        run_dir=str(run_dir), steps=steps, batch_size=2, crop_size=32, style_size=64, lr=1e-2, seed=0, n_val=2,
        checkpoint_every=2, preview_every=100, net=TransformerConfig(width=8, res_blocks=1),
        loss=LossConfig(style_weight=4.0),
    )


def write_published(folder: Path) -> Path:
    """MicroAST's four files as the authors publish them (networks.microast.PUBLISHED_FILES), holding the shipped
    network (weights/arbitrary/microast.pt): a randomly initialised one ignores the painting."""
    import torch

    from stylecore.networks.microast import PUBLISHED_FILES, MicroAST

    net = MicroAST()
    net.load_state_dict(torch.load(REPO / "weights" / "arbitrary" / "microast.pt", weights_only=True))
    folder.mkdir(parents=True)
    for part, state in net.part_state_dicts().items():
        torch.save(state, folder / PUBLISHED_FILES[part])
    (folder / "LICENSE").write_text("MIT License (test copy)\n")
    return folder


def tiny_arbitrary_config(root: Path, steps: int, painting_seed: int, **options):
    """A fine-tuning run small enough for the test suite, from the shipped weights as if published, on synthetic
    photos and 7 paintings in two folders (5 held out). ``options``: more ArbitraryTrainConfig fields."""
    from stylecore.training_arbitrary import ArbitraryTrainConfig

    if not (root / "photos").exists():
        (root / "photos").mkdir(parents=True)
        for index in range(3):
            draw_photo((64, 48), seed=index).save(root / "photos" / f"photo_{index}.png")
        for folder, seeds in (("paintings", range(4)), ("more_paintings", range(4, 7))):
            (root / folder).mkdir()
            for index in seeds:
                draw_painting(64, seed=painting_seed + index).save(root / folder / f"painting_{index}.png")
        write_published(root / "published")
    return ArbitraryTrainConfig(
        content_dir=str(root / "photos"), style_dirs=(str(root / "paintings"), str(root / "more_paintings")),
        run_dir=str(root / "run"), init_from=str(root / "published"), steps=steps, batch_size=2, crop_size=32,
        n_val_photos=1, n_val_styles=5, preview_every=1000, **{"checkpoint_every": 1000, **options})


def build_tiny_arbitrary(root: Path, weights: Path, steps: int, painting_seed: int) -> Path:
    """Really fine-tune (``steps`` steps), release and export a tiny any-style network into ``weights``; returns
    ``weights / "arbitrary"``."""
    from stylecore.export import export_arbitrary_onnx, release_arbitrary
    from stylecore.training_arbitrary import train_arbitrary

    config = tiny_arbitrary_config(root, steps, painting_seed)
    train_arbitrary(config, show_progress=False)
    release_arbitrary(Path(config.run_dir), weights)
    export_arbitrary_onnx(weights)
    return weights / "arbitrary"
