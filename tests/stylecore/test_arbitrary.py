import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylecore import Engine, EngineConfig
from stylecore.arbitrary import GRAPHS, feature_stats
from stylecore.errors import InvalidImageError, InvalidOptionError, MethodUnavailableError
from stylecore.export import export_arbitrary_onnx
from stylecore.networks.microast import mean_std
from stylecore.sidecars import file_sha256, sidecar_path

from .synthetic import draw_painting, draw_photo


@pytest.fixture
def engine(tiny_arbitrary_weights):
    return Engine(tiny_arbitrary_weights, EngineConfig(threads=1))


@pytest.fixture
def styles():
    return [draw_painting(64, seed=11), draw_painting(80, seed=12)]


def _array(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0


def _stylize(engine, photo, style, **options):
    return _array(engine.stylize(photo, style=style, method="arbitrary", **options))


def test_it_keeps_the_photo_size_for_odd_sizes(engine, styles):
    photo = draw_photo((45, 37), seed=1)
    assert engine.stylize(photo, style=styles[0], method="arbitrary").size == (45, 37)


def test_it_gives_the_photo_back_at_strength_zero(engine, styles):
    photo = draw_photo((48, 40), seed=2)
    assert np.array_equal(_stylize(engine, photo, styles[0], strength=0.0), _array(photo))


def test_each_step_of_strength_changes_the_picture_by_the_same_visible_amount(engine, styles):
    # Issue 26: strength 1.0 -> 0.5 once changed the picture by a little, and 0.2 was still heavily restyled.
    photo = draw_photo((160, 120), seed=2)
    renders = [_stylize(engine, photo, styles[0], strength=s) for s in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    steps = [np.abs(b - a).mean() for a, b in zip(renders, renders[1:])]
    assert min(steps) > 3 / 255
    assert max(steps) < 1.1 * min(steps)
    whole = np.abs(renders[-1] - renders[0]).mean()
    assert abs(steps[0] - whole / 5) < 0.1 * whole / 5  # strength 0.2 is a fifth of the way, not most of it


def test_it_changes_with_the_style_at_full_strength(engine, styles):
    photo = draw_photo((48, 40), seed=2)
    assert np.abs(_stylize(engine, photo, styles[0]) - _stylize(engine, photo, styles[1])).mean() > 1e-4


def test_it_reads_a_preset_painting_as_the_style(engine):
    photo = draw_photo((48, 40), seed=3)
    assert engine.stylize(photo, preset="starry_night", method="arbitrary").size == (48, 40)


def test_it_normalises_blend_weights(engine, styles):
    photo = draw_photo((48, 40), seed=4)
    half = _stylize(engine, photo, styles, style_weights=[0.5, 0.5])
    scaled = _stylize(engine, photo, styles, style_weights=[3.0, 3.0])
    assert np.abs(half - scaled).max() < 1e-5


def test_it_gives_one_style_for_a_one_hot_blend(engine, styles):
    photo = draw_photo((48, 40), seed=5)
    blend = _stylize(engine, photo, styles, style_weights=[1.0, 0.0])
    single = _stylize(engine, photo, styles[0])
    assert np.abs(blend - single).max() < 1e-5


@pytest.mark.parametrize("weights", [[-1.0, 2.0], [0.0, 0.0], [1.0], [float("nan"), 1.0]])
def test_it_refuses_bad_blend_weights(engine, styles, weights):
    with pytest.raises(InvalidOptionError):
        engine.stylize(draw_photo((32, 32), seed=6), style=styles, style_weights=weights, method="arbitrary")


def test_it_refuses_more_than_four_styles(engine, styles):
    with pytest.raises(InvalidOptionError, match="1 to 4"):
        engine.stylize(draw_photo((32, 32), seed=6), style=styles * 3, method="arbitrary")


@pytest.mark.parametrize("colour", [(128, 128, 128), (200, 40, 40)])
def test_it_refuses_a_flat_single_colour_style(engine, colour):
    with pytest.raises(InvalidImageError, match="flat colour"):
        engine.stylize(draw_photo((32, 32), seed=6), style=Image.new("RGB", (64, 64), colour), method="arbitrary")


def test_it_handles_tiny_and_huge_style_images(engine):
    photo = draw_photo((40, 32), seed=8)
    tiny = draw_painting(16, seed=13)
    huge = draw_painting(64, seed=14).resize((3000, 2400))
    assert engine.stylize(photo, style=tiny, method="arbitrary").size == (40, 32)
    assert engine.stylize(photo, style=huge, method="arbitrary").size == (40, 32)


def test_it_refuses_a_style_scale_out_of_range(engine, styles):
    with pytest.raises(InvalidOptionError, match="style scale"):
        engine.stylize(draw_photo((32, 32), seed=6), style=styles[0], method="arbitrary", style_scale=10)


def test_it_changes_with_the_style_scale(engine):
    photo = draw_photo((48, 40), seed=9)
    style = draw_painting(256, seed=15)
    assert np.abs(_stylize(engine, photo, style, style_scale=64) - _stylize(engine, photo, style,
                                                                             style_scale=256)).mean() > 1e-4


def _stroke_frequency(image: np.ndarray) -> float:
    """The luminance's mean spatial frequency (cycles/px) above 1/32, where the photo's large forms end and the
    strokes begin: larger strokes, lower frequency. ``image`` (H, W, 3) 0-1."""
    grey = image.mean(axis=2) - image.mean()
    power = np.abs(np.fft.rfft2(grey)) ** 2
    frequency = np.hypot(np.fft.fftfreq(grey.shape[0])[:, None], np.fft.rfftfreq(grey.shape[1])[None])
    strokes = frequency > 1 / 32
    return float((power * frequency)[strokes].sum() / power[strokes].sum())


BRUSHES = {"fine": 896, "medium": 512, "bold": 352}  # the form's brush choices (gallery.forms.STYLE_SCALE_CHOICES)


def test_fine_medium_and_bold_brushes_paint_visibly_different_strokes_from_small_to_large(engine):
    photo = draw_photo((320, 240), seed=11)
    style = draw_painting(256, seed=18)
    renders = {name: _stylize(engine, photo, style, style_scale=scale) for name, scale in BRUSHES.items()}
    for a, b in (("fine", "medium"), ("medium", "bold"), ("fine", "bold")):
        assert np.abs(renders[a] - renders[b]).mean() > 5 / 255, (a, b)
    fine, medium, bold = (_stroke_frequency(renders[name]) for name in BRUSHES)
    assert fine > 1.04 * medium and medium > 1.04 * bold


@pytest.mark.parametrize("photo_size, max_side, brush", [
    ((1600, 1200), 1500, "fine"),   # painted at 2625 x 1969, in tiles, then resized to 1500 x 1125
    ((1300, 900), 2048, "bold"),    # the photo's own size when it is smaller than the size asked
    ((1100, 1400), 1024, "medium"),
])
def test_it_delivers_the_size_asked_above_1024_px(engine, styles, photo_size, max_side, brush):
    photo = draw_photo(photo_size, seed=19)
    result = engine.stylize(photo, style=styles[0], method="arbitrary", max_side=max_side, style_scale=BRUSHES[brush])
    scale = min(1.0, max_side / max(photo_size))
    assert result.size == tuple(round(side * scale) for side in photo_size)
    assert np.abs(np.asarray(result, np.float32) - np.asarray(photo.resize(result.size), np.float32)).mean() > 5


@pytest.mark.parametrize("size", [(45, 37), (203, 64), (64, 301)])
@pytest.mark.parametrize("style_scale", [896, 512, 352])
@pytest.mark.parametrize("max_side", [1024, 100])
def test_it_delivers_the_size_asked_at_every_brush_size(engine, styles, size, style_scale, max_side):
    from stylecore import prepare_photo

    photo = draw_photo(size, seed=3)
    result = engine.stylize(photo, style=styles[0], method="arbitrary", style_scale=style_scale, max_side=max_side)
    assert result.size == prepare_photo(photo, max_side).size


def test_it_gives_the_same_image_on_onnx_runtime_and_pytorch(tiny_arbitrary_weights, styles):
    photo = draw_photo((52, 44), seed=10)
    onnx = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="onnx"))
    eager = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="torch"))
    a = _array(onnx.stylize(photo, style=styles, style_weights=[0.3, 0.7], method="arbitrary", strength=0.6))
    b = _array(eager.stylize(photo, style=styles, style_weights=[0.3, 0.7], method="arbitrary", strength=0.6))
    assert np.abs(a - b).max() <= 1 / 255


def test_each_graph_gives_what_its_pytorch_stage_gives(tiny_arbitrary_weights, styles):
    onnx = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="onnx")).arbitrary
    eager = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="torch")).arbitrary
    rng = np.random.default_rng(0)
    photo = rng.random((1, 3, 40, 72), dtype=np.float32)
    painting = rng.random((1, 3, 60, 44), dtype=np.float32)
    code = eager._run("style.onnx", "style_code", painting)
    np.testing.assert_allclose(onnx._run("style.onnx", "style_code", painting), code, atol=1e-4)
    features = eager._run("encoder.onnx", "encode", photo)
    np.testing.assert_allclose(onnx._run("encoder.onnx", "encode", photo), features, atol=1e-4)
    hidden = eager._run("modulate.onnx", "modulate", features, *feature_stats(features), code)
    np.testing.assert_allclose(onnx._run("modulate.onnx", "modulate", features, *feature_stats(features), code),
                               hidden, atol=1e-3)
    image = eager._run("decoder.onnx", "decode", hidden, *feature_stats(hidden), code)
    np.testing.assert_allclose(onnx._run("decoder.onnx", "decode", hidden, *feature_stats(hidden), code), image,
                               atol=1e-3)


def test_it_exports_each_graph_within_tolerance(tiny_arbitrary_weights, tmp_path):
    import shutil

    weights = tmp_path / "weights"
    shutil.copytree(tiny_arbitrary_weights, weights)
    results = export_arbitrary_onnx(weights)
    assert [path.name for path, _ in results] == list(GRAPHS)
    for path, diff in results:
        sidecar = json.loads(sidecar_path(path).read_text())
        assert diff < 1e-3 and sidecar["parity_max_abs_diff"] == diff
        assert sidecar["steps"] == 4 and sidecar["backbone"] == "vgg16-imagenet"


def test_its_release_credits_microast_and_names_the_files_it_started_from(tiny_arbitrary_weights):
    meta = json.loads((tiny_arbitrary_weights / "arbitrary" / "microast.pt.json").read_text())
    credit = meta["credit"]
    assert credit["repository"] == "https://github.com/EndyWon/MicroAST" and credit["commit"] == "5a6c9050d8c4"
    assert credit["licence"] == "MIT" and credit["licence_text"].startswith("MIT License")
    assert "Zhizhong Wang" in credit["authors"] and "AAAI 2023" in credit["paper"]
    published = meta["config"]["init_from"]
    from pathlib import Path

    assert credit["started_from_sha256"] == {name: file_sha256(Path(published) / name)
                                             for name in credit["started_from_sha256"]}
    assert len(credit["started_from_sha256"]) == 4
    assert meta["steps"] == 4 and meta["config"]["content_layers"] == ["relu4_1"]


@pytest.mark.parametrize("graph", GRAPHS)
def test_it_names_the_export_command_when_a_graph_is_missing(tiny_arbitrary_weights, tmp_path, styles, graph):
    import shutil

    weights = tmp_path / "weights"
    shutil.copytree(tiny_arbitrary_weights, weights)
    (weights / "arbitrary" / graph).unlink()
    with pytest.raises(MethodUnavailableError, match=f"{graph}; run `python -m stylecore export`"):
        Engine(weights, EngineConfig(threads=1)).stylize(draw_photo((32, 32), seed=1), style=styles[0],
                                                         method="arbitrary")


def test_its_feature_statistics_are_the_networks_and_add_up_over_parts():
    rng = np.random.default_rng(1)
    features = (rng.standard_normal((1, 64, 20, 30)) * 2 + 1).astype(np.float32)
    mean, std = feature_stats(features)
    torch_mean, torch_std = mean_std(torch.from_numpy(features))
    np.testing.assert_allclose(mean, torch_mean.numpy(), atol=1e-5)
    np.testing.assert_allclose(std, torch_std.numpy(), atol=1e-5)
    parts = feature_stats(features[..., :7, :], features[..., 7:, :11], features[..., 7:, 11:])
    np.testing.assert_allclose(parts[0], mean, atol=1e-6)
    np.testing.assert_allclose(parts[1], std, atol=1e-6)


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_its_tiles_give_the_untiled_render_across_their_borders(tiny_arbitrary_weights, runtime):
    # 2 x 4 tiles of 256 px. The overlap (128 px) is more than twice the network's reach, so the part of each tile
    # that it owns, up to the middle of its overlaps, holds the whole render's pixels: no seam at any border.
    rng = np.random.default_rng(2)
    photo = np.asarray(draw_photo((600, 360), seed=16), np.float32).transpose(2, 0, 1)[None] / 255
    photo = np.clip(photo + 0.1 * rng.standard_normal(photo.shape, dtype=np.float32), 0, 1)  # texture everywhere
    style = [draw_painting(96, seed=17)]
    whole = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime=runtime)).arbitrary
    tiled = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime=runtime, arbitrary_tile_above=0,
                                                        arbitrary_tile=256, arbitrary_tile_overlap=128)).arbitrary
    calls = []
    a = whole.stylize(photo, style, None, style_scale=512, progress=None)
    b = tiled.stylize(photo, style, None, style_scale=512, progress=lambda done, total: calls.append(done / total))
    assert a.shape == b.shape == photo.shape
    assert np.abs(a - b).max() < 1e-4
    assert calls == sorted(calls) and calls[-1] == 1.0 and len(calls) == 3 * 8 + 1  # encode, modulate, decode


def test_it_encodes_a_repeated_style_once(engine, styles, monkeypatch):
    # A live preview re-renders the same painting as the strength slider moves: only the photo is encoded again.
    stylizer = engine.arbitrary
    encoded = []
    real = stylizer._run
    monkeypatch.setattr(stylizer, "_run", lambda graph, *a: (graph == "style.onnx" and encoded.append(1)) or real(
        graph, *a))
    photo = draw_photo((48, 40), seed=22)
    first = _stylize(engine, photo, styles[0], strength=0.8)
    again = _stylize(engine, photo, styles[0], strength=0.8)
    assert len(encoded) == 1
    assert np.array_equal(first, again)
    _stylize(engine, photo, styles[1])
    _stylize(engine, photo, styles[1], style_scale=64)
    assert len(encoded) == 3  # another painting, and the same painting at another scale, are encoded anew


def test_it_keeps_a_bounded_number_of_style_codes(engine, monkeypatch):
    stylizer = engine.arbitrary
    encoded = []
    real = stylizer._run
    monkeypatch.setattr(stylizer, "_run", lambda graph, *a: encoded.append(1) or real(graph, *a))
    paintings = [np.random.default_rng(seed).random((1, 3, 16, 16), dtype=np.float32) for seed in range(17)]
    for painting in paintings:
        stylizer._style_code(painting)
    stylizer._style_code(paintings[-1])
    assert len(encoded) == 17  # the newest is still there
    stylizer._style_code(paintings[0])
    assert len(encoded) == 18  # the oldest was dropped at 16


def test_it_encodes_the_painting_at_the_style_scale_on_its_short_side():
    from stylecore.arbitrary import style_array

    assert style_array(draw_painting(64, seed=1).resize((200, 100)), 512).shape == (1, 3, 512, 1024)
    assert style_array(draw_painting(64, seed=1).resize((100, 800)), 320).shape == (1, 3, 960, 120)  # long side capped
