"""Fixtures for the engine's tests: real tiny weights from a real (tiny) training run, released with the catalog's
names, so every test exercises real networks, never mocks. Everything runs on one thread: the CPU is shared with
long training runs.
"""

import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from stylecore import Engine, EngineConfig
from stylecore.export import export_onnx, release_presets
from stylecore.training import train

from .synthetic import PRESET_NAMES, REPO, draw_photo, tiny_train_config

os.environ.setdefault("STYLECORE_CACHE", str(REPO / "var" / "cache" / "stylecore"))
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A finished 16-step training run on synthetic images; returns its folder."""
    root = tmp_path_factory.mktemp("tiny-run")
    config = tiny_train_config(root, root / "run", steps=16)
    train(config, show_progress=False)
    return Path(config.run_dir)


@pytest.fixture(scope="session")
def tiny_weights(tiny_run, tmp_path_factory) -> Path:
    """A weights folder released from ``tiny_run`` with catalog names, exported to ONNX. Treat it as read-only."""
    weights = tmp_path_factory.mktemp("tiny-weights")
    release_presets(tiny_run, weights, list(PRESET_NAMES), n_val_metrics=2)
    export_onnx(weights)
    return weights


@pytest.fixture
def make_engine(tiny_weights):
    """``make_engine(**EngineConfig options)``: an Engine on the tiny weights, on one thread unless told."""
    def make(**options) -> Engine:
        return Engine(tiny_weights, EngineConfig(**{"threads": 1, **options}))

    return make


@pytest.fixture
def photo() -> Image.Image:
    return draw_photo((45, 37), seed=7)


@pytest.fixture(scope="session")
def tiny_arbitrary_weights(tiny_weights, tmp_path_factory) -> Path:
    """``tiny_weights`` plus a really trained (a few steps), released and exported arbitrary-style network."""
    import shutil

    from stylecore.export import export_arbitrary_onnx, release_arbitrary
    from stylecore.networks.arbitrary import ArbitraryConfig
    from stylecore.training_arbitrary import ArbitraryTrainConfig, train_arbitrary

    from .synthetic import draw_painting

    root = tmp_path_factory.mktemp("tiny-arbitrary")
    (root / "photos").mkdir()
    (root / "paintings").mkdir()
    for index in range(3):
        draw_photo((64, 48), seed=index).save(root / "photos" / f"photo_{index}.png")
    for index in range(7):
        draw_painting(64, seed=300 + index).save(root / "paintings" / f"painting_{index}.png")
    config = ArbitraryTrainConfig(
        content_dir=str(root / "photos"), style_dir=str(root / "paintings"), run_dir=str(root / "run"), steps=4,
        crop_size=32, n_val_photos=1, n_val_styles=5, preview_every=1000, checkpoint_every=1000,
        net=ArbitraryConfig(width=8),
    )
    train_arbitrary(config, show_progress=False)
    weights = root / "weights"
    shutil.copytree(tiny_weights, weights)
    release_arbitrary(root / "run", weights, n_pairs=5)
    export_arbitrary_onnx(weights)
    return weights
