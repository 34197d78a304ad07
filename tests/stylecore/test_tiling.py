import numpy as np
import pytest
import torch

from stylecore.arrays import run_tiled
from stylecore.imageio import to_array
from stylecore.presets import load_transformer, read_presets
from stylecore.tiling import frozen_norm_stats

from .synthetic import draw_photo

TILE, OVERLAP = 64, 32


@pytest.fixture
def net(tiny_weights):
    preset = read_presets(tiny_weights)["starry_night"]
    return load_transformer(preset.weights_path, preset.metadata["network"])


def _numpy(net):
    def run(patch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(patch)).numpy()
    return run


def _seam_error(tiled: np.ndarray, untiled: np.ndarray, size: int) -> float:
    """Mean absolute error in 4-px bands around the seams of non-overlapping ``TILE`` tiles."""
    seams = range(TILE, size, TILE)
    rows = sorted({r for s in seams for r in range(s - 4, s + 4)})
    diff = np.abs(tiled - untiled)
    return float(np.concatenate([diff[:, :, rows, :].ravel(), diff[:, :, :, rows].ravel()]).mean())


def test_it_blends_tiles_close_to_the_untiled_result(net):
    image = to_array(draw_photo((128, 128), seed=11))
    # Norm statistics from the whole image, so the only difference left is each tile's limited context.
    with frozen_norm_stats(net, torch.from_numpy(image)):
        untiled = _numpy(net)(image)
        feathered = run_tiled(_numpy(net), image, tile=TILE, overlap=OVERLAP, multiple=net.multiple)
        naive = run_tiled(_numpy(net), image, tile=TILE, overlap=0, multiple=net.multiple)
    feathered_seams, naive_seams = _seam_error(feathered, untiled, 128), _seam_error(naive, untiled, 128)
    assert feathered_seams < 0.015
    assert feathered_seams < 0.6 * naive_seams
    assert np.abs(feathered - untiled).max() < 0.2


def test_it_reports_tile_progress(net):
    image = to_array(draw_photo((100, 100), seed=12))
    calls = []
    run_tiled(_numpy(net), image, tile=TILE, overlap=OVERLAP, multiple=net.multiple, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 9) for i in range(1, 10)]


def test_it_tiles_large_images_in_the_engine_without_visible_seams(make_engine):
    photo = draw_photo((150, 130), seed=13)
    untiled = np.asarray(make_engine(runtime="torch").stylize(photo, preset="great_wave"), dtype=float)
    feathered, naive = (np.asarray(make_engine(tile_above=64 * 64, tile=64, tile_overlap=overlap)
                                   .stylize(photo, preset="great_wave"), dtype=float) for overlap in (32, 0))
    assert feathered.shape == untiled.shape
    # Out of 255. Some of it is the thumbnail's norm statistics, which differ slightly from the whole image's.
    assert np.abs(feathered - untiled).mean() < 8.0
    assert np.abs(feathered - untiled).mean() < 0.7 * np.abs(naive - untiled).mean()
