"""``python -m benchmarks <command>``: bench, compare and grid, on top of the engine's API."""

from __future__ import annotations

import argparse
from pathlib import Path

from stylecore.cli import CONTENT_DIR, DEFAULT_WEIGHTS, STYLE_DIRS, run


def cmd_bench(args) -> int:
    from .bench import run_benchmarks

    path = run_benchmarks(args.weights, args.output, sizes=args.sizes, repeats=args.repeats,
                          content_dir=args.content_dir)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


def cmd_compare(args) -> int:
    from .compare import COMPARE_SIZE, compare_arbitrary

    path = compare_arbitrary(args.weights, args.content_dir, args.style_dirs, args.output, args.grid,
                             n_pairs=args.pairs, size=args.size or COMPARE_SIZE, strength=args.strength,
                             optimize=args.optimize)
    print(f"wrote {path}" + (f" and {args.grid}" if args.grid else ""))
    return 0


def cmd_grid(args) -> int:
    """Picture grid of held-out photos x presets for the docs."""
    from tqdm import tqdm

    from stylecore.data import list_images, split_validation
    from stylecore.imageio import fit_within, open_image
    from stylecore.inference import Engine
    from stylecore.plots import save_grid

    engine = Engine.load(args.weights)
    presets = engine.presets()
    _, val = split_validation(list_images(args.content_dir), presets[0].metadata["config"]["n_val"])
    photos = [fit_within(open_image(p), args.size) for p in val[: args.photos]]
    header = [None] + [open_image(p.preview_path) for p in presets]
    rows = [[photo] + [engine.stylize(photo, preset=p.name, max_side=args.size) for p in presets]
            for photo in tqdm(photos, desc="grid")]
    save_grid([header] + rows, args.output, cell=args.size)
    print(f"wrote {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("bench", help="measure latency, memory and quality; writes docs/benchmarks.md and .json")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--content-dir", type=Path, default=CONTENT_DIR)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("compare", help="arbitrary style beside the peer and Gatys on held-out pairs: a picture grid "
                                       "and the distances (diagnostics)")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--content-dir", type=Path, default=CONTENT_DIR)
    p.add_argument("--style-dirs", type=Path, nargs="+", default=list(STYLE_DIRS),
                   help="the training run's painting folders (their held-out paintings are compared)")
    p.add_argument("--output", type=Path, default=Path("runs/compare/arbitrary.md"))
    p.add_argument("--grid", type=Path, default=Path("docs/arbitrary_grid.jpg"))
    p.add_argument("--no-grid", dest="grid", action="store_const", const=None, help="write no picture grid")
    p.add_argument("--pairs", type=int, default=8, help="the first N of the held-out photos x paintings")
    p.add_argument("--no-optimize", dest="optimize", action="store_false",
                   help="leave out the optimize method (~10 s a pair), for diagnostics over many pairs")
    p.add_argument("--size", type=int, help="the longer side of photos and results (default 384: the peer's own "
                                            "working size, at which no result is resampled)")
    p.add_argument("--strength", type=float, default=1.0, help="our arbitrary method's strength (0: its reconstruction)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("grid", help="picture grid of held-out photos x presets for the docs")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--output", type=Path, default=Path("docs/presets_grid.jpg"))
    p.add_argument("--content-dir", type=Path, default=CONTENT_DIR)
    p.add_argument("--photos", type=int, default=4)
    p.add_argument("--size", type=int, default=256)
    p.set_defaults(func=cmd_grid)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)
