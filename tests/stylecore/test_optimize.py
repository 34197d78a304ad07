import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylecore.backbones import load_backbone
from stylecore.configs import OptimizeConfig
from stylecore.errors import InvalidOptionError
from stylecore.imageio import to_array
from stylecore.losses import perceptual_loss
from stylecore.ops import gram_matrix
from stylecore.arrays import match_colors
from stylecore.optimize import optimize

from .synthetic import draw_painting, draw_photo

TINY_OPTIMIZE = OptimizeConfig(stage_iterations=(3, 2))


def _optimize(engine, photo, seed):
    calls = []
    out = engine.stylize(photo, style=draw_painting(48, seed=1), method="optimize", seed=seed,
                         progress=lambda done, total: calls.append((done, total)))
    return np.asarray(out), calls


def test_it_optimizes_with_monotonic_progress(make_engine, photo):
    out, calls = _optimize(make_engine(optimize=TINY_OPTIMIZE), photo, seed=0)
    assert out.shape == (photo.height, photo.width, 3)
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and dones[-1] == 5
    assert {total for _, total in calls} == {5}
    assert not np.array_equal(out, np.asarray(photo))


def test_it_optimizes_deterministically_for_a_seed(make_engine, photo):
    engine = make_engine(optimize=TINY_OPTIMIZE)
    first, _ = _optimize(engine, photo, seed=3)
    again, _ = _optimize(engine, photo, seed=3)
    assert np.array_equal(first, again)


def test_it_optimizes_with_a_preset_painting(make_engine, photo):
    out = make_engine(optimize=TINY_OPTIMIZE).stylize(photo, preset="great_wave", method="optimize")
    assert out.size == photo.size


def _loss(vgg, image, content, style, config: OptimizeConfig) -> float:
    """The full-size stage's loss: the painting at ``style_scale`` of the image's long side, as optimize() sizes it."""
    cfg = config.loss
    h, w = style.shape[-2:]
    scale = config.style_scale * max(content.shape[-2:]) / max(h, w)
    style = F.interpolate(style, size=(round(h * scale), round(w * scale)), mode="bilinear", antialias=True)
    with torch.no_grad():
        grams = {name: gram_matrix(f) for name, f in vgg(style, cfg.style_layers).items()}
        return perceptual_loss(vgg(image, cfg.layers), vgg(content, cfg.content_layers), grams, image, cfg)[
            "total"].item()


def test_a_warm_start_lowers_the_loss_of_the_feed_forward_result(make_engine):
    photo, painting = draw_photo((64, 48), seed=2), draw_painting(64, seed=5)
    feed_forward = make_engine().stylize(photo, preset="great_wave")
    content, style, init = (torch.from_numpy(to_array(image)) for image in (photo, painting, feed_forward))
    vgg = load_backbone()
    config = OptimizeConfig(stage_iterations=(4, 4))
    out = optimize(vgg, content, style, config, init=init)
    assert _loss(vgg, out, content, style, config) < 0.95 * _loss(vgg, init, content, style, config)
    cold = optimize(vgg, content, style, config)
    # It refines the start it was given: nearer to it than a run from the photo is.
    assert (out - init).abs().mean() < (cold - init).abs().mean()


def test_it_starts_from_the_photo_in_the_paintings_colours(make_engine):
    photo, painting = draw_photo((48, 40), seed=3), draw_painting(48, seed=1)
    engine = make_engine(optimize=OptimizeConfig(stage_iterations=(1,)))
    out = to_array(engine.stylize(photo, style=painting, method="optimize"))
    recoloured = match_colors(to_array(photo), to_array(painting))
    assert np.abs(out - recoloured).mean() < 0.5 * np.abs(out - to_array(photo)).mean()


def test_it_delivers_the_size_asked_for(make_engine):
    out = make_engine(optimize=TINY_OPTIMIZE).stylize(draw_photo((80, 50), seed=1), style=draw_painting(32, seed=1),
                                                      method="optimize", max_side=64)
    assert out.size == (64, 40)


def test_it_refuses_a_size_above_its_cap_instead_of_shrinking_it(make_engine, photo):
    engine = make_engine(optimize=TINY_OPTIMIZE, optimize_max_side=48)
    with pytest.raises(InvalidOptionError, match="at most 48 px"):
        engine.stylize(photo, style=draw_painting(32, seed=1), method="optimize", max_side=64)
