"""Re-dialing a kept full-strength render: the picture stylize makes, without painting again."""

import numpy as np
import pytest

from stylecore import Engine, EngineConfig, prepare_photo, redial
from stylecore.errors import InvalidImageError, InvalidOptionError

from .synthetic import REPO, draw_photo


@pytest.fixture(scope="module")
def shipped_engine() -> Engine:
    """The shipped great_wave network: a real render, whose luminance has the spread of a painting. (The tiny test
    networks paint a nearly flat luminance, which the colour transfer's std matching blows up ~60 times.)"""
    return Engine(REPO / "weights", EngineConfig(threads=1))


@pytest.mark.parametrize("strength, keep", [(1.0, False), (0.6, False), (1.0, True), (0.35, True)])
def test_it_redials_a_render_into_what_stylize_makes(shipped_engine, strength, keep):
    photo = draw_photo((150, 110), seed=11)
    render = shipped_engine.render(photo, preset="great_wave", max_side=100)
    assert render.photo.size == render.full.size == (100, 73)
    assert np.array_equal(np.asarray(render.photo), np.asarray(prepare_photo(photo, 100)))
    direct = shipped_engine.stylize(photo, preset="great_wave", max_side=100, strength=strength, preserve_color=keep)
    redialed = redial(render.photo, render.full, strength=strength, preserve_color=keep)
    # The kept render is 8-bit, stylize's is float: half a level apart before the last steps.
    difference = np.abs(np.asarray(direct, np.int16) - np.asarray(redialed, np.int16))
    assert difference.max() <= 2 and difference.mean() < 0.3


def test_it_gives_the_render_back_at_full_strength_and_the_photo_at_zero(make_engine, photo):
    render = make_engine().render(photo, preset="starry_night")
    full = redial(render.photo, render.full, strength=1.0, preserve_color=False)
    assert np.array_equal(np.asarray(full), np.asarray(render.full))
    none = redial(render.photo, render.full, strength=0.0, preserve_color=True)
    assert np.array_equal(np.asarray(none), np.asarray(photo))


def test_it_refuses_a_photo_of_another_size_and_a_strength_out_of_range(make_engine, photo):
    render = make_engine().render(photo, preset="starry_night")
    with pytest.raises(InvalidImageError, match="same size"):
        redial(render.photo.resize((20, 20)), render.full, strength=0.5, preserve_color=False)
    with pytest.raises(InvalidOptionError, match="between 0 and 1"):
        redial(render.photo, render.full, strength=1.2, preserve_color=False)
