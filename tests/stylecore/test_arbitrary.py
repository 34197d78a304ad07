import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylecore import Engine, EngineConfig
from stylecore.errors import InvalidImageError, InvalidOptionError, MethodUnavailableError
from stylecore.export import export_arbitrary_onnx
from stylecore.imageio import to_tensor
from stylecore.networks.arbitrary import apply_transform
from stylecore.sidecars import sidecar_path
from stylecore.training_arbitrary import feature_transforms, stylize_tensors

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
    photo = draw_photo((64, 48), seed=2)
    renders = [_stylize(engine, photo, styles[0], strength=s) for s in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    steps = [np.abs(b - a).mean() for a, b in zip(renders, renders[1:])]
    assert min(steps) > 1 / 255
    assert max(steps) < 1.1 * min(steps)


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


def test_it_gives_the_same_image_on_onnx_runtime_and_pytorch(tiny_arbitrary_weights, styles):
    photo = draw_photo((52, 44), seed=10)
    onnx = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="onnx", arbitrary_encoder="float"))
    eager = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="torch"))
    a = _array(onnx.stylize(photo, style=styles, style_weights=[0.3, 0.7], method="arbitrary", strength=0.6))
    b = _array(eager.stylize(photo, style=styles, style_weights=[0.3, 0.7], method="arbitrary", strength=0.6))
    assert np.abs(a - b).max() <= 1.5 / 255


def test_it_exports_onnx_within_tolerance(tiny_arbitrary_weights):
    for path, diff in export_arbitrary_onnx(tiny_arbitrary_weights):
        assert path.exists() and diff < 1e-3
        sidecar = json.loads(sidecar_path(path).read_text())
        assert sidecar["steps"] == 4 and sidecar["backbone"] == "vgg16-hed" and sidecar["parity_max_abs_diff"] == diff


def test_its_int8_encoder_is_int8_and_renders_close_to_the_float_one(tiny_arbitrary_weights, styles):
    import onnx

    path = tiny_arbitrary_weights / "arbitrary" / "encoder.int8.onnx"
    ops = {node.op_type for node in onnx.load(path).graph.node}
    assert "QLinearConv" in ops and "Conv" not in ops
    sidecar = json.loads(sidecar_path(path).read_text())
    assert 0 < sidecar["relative_feature_error"] < 0.02 and sidecar["steps"] == 4
    photo = draw_photo((52, 44), seed=10)
    results = [_stylize(Engine(tiny_arbitrary_weights, EngineConfig(threads=1, arbitrary_encoder=encoder)), photo,
                        styles[0]) for encoder in ("int8", "float")]
    difference = np.abs(results[0] - results[1])
    assert 0 < difference.mean() < 2 / 255


def test_it_names_the_export_command_when_the_int8_encoder_is_missing(tiny_arbitrary_weights, tmp_path, styles):
    import shutil

    weights = tmp_path / "weights"
    shutil.copytree(tiny_arbitrary_weights, weights)
    (weights / "arbitrary" / "encoder.int8.onnx").unlink()
    with pytest.raises(MethodUnavailableError, match="encoder.int8.onnx; run `python -m stylecore export`"):
        Engine(weights, EngineConfig(threads=1)).stylize(draw_photo((32, 32), seed=1), style=styles[0],
                                                         method="arbitrary")
    float_only = Engine(weights, EngineConfig(threads=1, arbitrary_encoder="float"))
    assert float_only.stylize(draw_photo((32, 32), seed=1), style=styles[0], method="arbitrary").size == (32, 32)


def test_it_refuses_an_unknown_encoder(tiny_arbitrary_weights, styles):
    engine = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, arbitrary_encoder="fp16"))
    with pytest.raises(InvalidOptionError, match="int8, float, not 'fp16'"):
        engine.stylize(draw_photo((32, 32), seed=1), style=styles[0], method="arbitrary")


def test_it_gives_the_decoder_the_style_feature_statistics(tiny_arbitrary_weights):
    # What the decoder receives at full strength: the photo's encoder features with the painting's mean and, on the
    # channels the photo uses, its std (whitening.py's tests cover the algebra; this covers the network's wiring).
    net = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="torch")).arbitrary.net
    content = torch.from_numpy(np.asarray(draw_photo((128, 128), seed=20), np.float32).transpose(2, 0, 1)[None] / 255)
    style = torch.from_numpy(np.asarray(draw_painting(128, seed=21), np.float32).transpose(2, 0, 1)[None] / 255)
    with torch.no_grad():
        content_f, style_f = net.encoder(content), net.encoder(style)
        target = apply_transform(content_f, *feature_transforms(content_f, style_f, torch.ones(1)))
    flat, style_flat, content_flat = (f.flatten(2)[0].double() for f in (target, style_f, content_f))
    live = (content_flat.std(1) > 1e-2) & (style_flat.std(1) > 1e-2)
    assert live.sum() > 10
    torch.testing.assert_close(flat.mean(1), style_flat.mean(1), rtol=1e-3, atol=1e-3)
    before = (content_flat.std(1)[live] - style_flat.std(1)[live]).abs().mean()
    after = (flat.std(1)[live] - style_flat.std(1)[live]).abs().mean()
    assert after < 0.1 * before


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_it_tiles_large_images_close_to_the_untiled_result(tiny_arbitrary_weights, styles, runtime):
    photo = draw_photo((96, 80), seed=16)
    whole = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime=runtime))
    tiled = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime=runtime, arbitrary_tile_above=48 * 48,
                                                        arbitrary_tile=64, tile_overlap=32))
    calls = []
    a = _stylize(whole, photo, styles[0], max_side=96)
    b = _stylize(tiled, photo, styles[0], max_side=96, progress=lambda done, total: calls.append(done / total))
    # The tiles take the photo's statistics from their own features, as the whole image does: 0.0013 here, where
    # statistics from a thumbnail gave 0.0040.
    assert np.abs(a - b).mean() < 0.0025
    assert calls == sorted(calls) and calls[-1] == 1.0 and len(calls) > 3


def test_it_encodes_a_repeated_style_once(engine, styles, monkeypatch):
    # A live preview re-renders the same painting as the strength slider moves: only the photo is encoded again.
    stylizer = engine.arbitrary
    encoded = []
    real = stylizer._encode
    monkeypatch.setattr(stylizer, "_encode", lambda image: encoded.append(image.shape) or real(image))
    photo = draw_photo((48, 40), seed=22)
    first = _stylize(engine, photo, styles[0], strength=0.8)
    again = _stylize(engine, photo, styles[0], strength=0.8)
    assert len(encoded) == 3  # style, photo, photo
    assert np.array_equal(first, again)
    _stylize(engine, photo, styles[1])
    _stylize(engine, photo, styles[1], style_scale=64)  # styles[1] is 80 px: smaller pixels
    assert len(encoded) == 7  # another painting, and the same painting at another scale, are encoded anew


def test_it_keeps_a_bounded_number_of_style_codes(engine, monkeypatch):
    stylizer = engine.arbitrary
    encoded = []
    real = stylizer._encode
    monkeypatch.setattr(stylizer, "_encode", lambda image: encoded.append(1) or real(image))
    paintings = [np.random.default_rng(seed).random((1, 3, 16, 16), dtype=np.float32) for seed in range(17)]
    for painting in paintings:
        stylizer._style_code(painting)
    stylizer._style_code(paintings[-1])
    assert len(encoded) == 17  # the newest is still there
    stylizer._style_code(paintings[0])
    assert len(encoded) == 18  # the oldest was dropped at 16


def test_training_decodes_what_the_engine_renders(tiny_arbitrary_weights, styles):
    # Training's renders (losses, previews, release metrics) take the same reflected margin and statistics as the
    # engine's, so the decoder learns on exactly what it is given at inference. Without the margin in training they
    # differed by up to 0.06 here.
    engine = Engine(tiny_arbitrary_weights, EngineConfig(threads=1, runtime="torch"))
    photo, style = draw_photo((64, 48), seed=22), styles[0]
    rendered = _stylize(engine, photo, style, style_scale=max(style.size))
    trained = stylize_tensors(engine.arbitrary.net, to_tensor(photo), to_tensor(style))
    assert np.abs(rendered - trained[0].permute(1, 2, 0).numpy()).max() <= 1.5 / 255
