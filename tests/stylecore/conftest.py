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

    from .synthetic import build_tiny_arbitrary

    root = tmp_path_factory.mktemp("tiny-arbitrary")
    weights = root / "weights"
    shutil.copytree(tiny_weights, weights)
    build_tiny_arbitrary(root, weights, steps=4, painting_seed=300)
    return weights
