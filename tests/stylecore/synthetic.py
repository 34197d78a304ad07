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


def build_tiny_arbitrary(root: Path, weights: Path, steps: int, painting_seed: int, **options) -> Path:
    """Really train (``steps`` steps on synthetic images), release and export a tiny arbitrary-style network into
    ``weights``; returns ``weights / "arbitrary"``. 7 paintings, since 5 are held out for validation. ``options``:
    more ArbitraryTrainConfig fields."""
    from stylecore.export import export_arbitrary_onnx, quantize_arbitrary_encoder, release_arbitrary
    from stylecore.networks.arbitrary import ArbitraryConfig
    from stylecore.training_arbitrary import ArbitraryTrainConfig, train_arbitrary

    (root / "photos").mkdir(parents=True)
    (root / "paintings").mkdir()
    for index in range(3):
        draw_photo((64, 48), seed=index).save(root / "photos" / f"photo_{index}.png")
    for index in range(7):
        draw_painting(64, seed=painting_seed + index).save(root / "paintings" / f"painting_{index}.png")
    config = ArbitraryTrainConfig(
        content_dir=str(root / "photos"), style_dir=str(root / "paintings"), run_dir=str(root / "run"), steps=steps,
        crop_size=32, n_val_photos=1, n_val_styles=5, preview_every=1000, checkpoint_every=1000,
        distill_steps=1, lr=1e-3, content_weight=1.0, style_weight=3.0, gram_weight=1.0, hue_jitter=0.0,
        ema_decay=0.0, structure_weight=0.0, net=ArbitraryConfig(width=8),
        **options,
    )
    train_arbitrary(config, show_progress=False)
    release_arbitrary(root / "run", weights, n_pairs=5)
    export_arbitrary_onnx(weights)
    quantize_arbitrary_encoder(weights)
    return weights / "arbitrary"
