"""Loss curves and picture grids for training runs and docs."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from .imageio import to_image


def save_loss_curve(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    # Every loss term a run records; a term may cover only part of the run (the arbitrary run distils first).
    for key in dict.fromkeys(k for h in history for k in h if k != "step"):
        steps = [h["step"] for h in history if key in h]
        values = [h[key] for h in history if key in h]
        window = max(1, len(values) // 50)  # a moving average: single steps are noisy at batch 4
        smooth = [sum(values[max(0, i - window + 1):i + 1]) / len(values[max(0, i - window + 1):i + 1])
                  for i in range(len(values))]
        ax.plot(steps, smooth, label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (moving average)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_grid(rows: list[list[torch.Tensor | Image.Image | None]], path: Path, cell: int = 256, gap: int = 4) -> None:
    """Rows of images (tensors (1, 3, H, W) or PIL) fitted into ``cell``-px squares, on white; None leaves a gap."""
    n_cols = max(len(r) for r in rows)
    grid = Image.new("RGB", (n_cols * (cell + gap) - gap, len(rows) * (cell + gap) - gap), "white")
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            if item is None:
                continue
            image = to_image(item) if isinstance(item, torch.Tensor) else item.convert("RGB")
            image = image.copy()
            image.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            x = c * (cell + gap) + (cell - image.width) // 2
            y = r * (cell + gap) + (cell - image.height) // 2
            grid.paste(image, (x, y))
    grid.save(path, quality=90)
