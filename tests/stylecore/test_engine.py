import numpy as np
import pytest

from stylecore.arrays import rgb_to_yiq
from stylecore.errors import InvalidImageError, InvalidOptionError, StyleCoreError
from stylecore.imageio import to_array

from .synthetic import draw_photo


def test_it_returns_the_content_at_strength_zero(make_engine, photo):
    out = make_engine().stylize(photo, preset="starry_night", strength=0.0)
    assert np.array_equal(np.asarray(out), np.asarray(photo))


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "CMYK"])
@pytest.mark.parametrize("size", [(45, 37), (17, 101)])
def test_it_keeps_the_input_size_for_any_mode(make_engine, mode, size):
    content = draw_photo(size, seed=3).convert(mode)
    out = make_engine().stylize(content, preset="great_wave")
    assert (out.mode, out.size) == ("RGB", size)


def test_it_caps_the_output_at_max_side(make_engine):
    out = make_engine().stylize(draw_photo((120, 60), seed=4), preset="great_wave", max_side=40)
    assert out.size == (40, 20)


@pytest.mark.parametrize("options", [
    {"method": "sketch"}, {"strength": 1.5}, {"strength": -0.1}, {"max_side": 8}, {"max_side": 10_000},
    {"preset": None},
])
def test_it_rejects_invalid_options(make_engine, photo, options):
    with pytest.raises(InvalidOptionError):
        make_engine().stylize(photo, **{"preset": "starry_night", **options})


def test_it_rejects_a_photo_too_small_to_stylize(make_engine):
    with pytest.raises(InvalidImageError, match="at least 16 px"):
        make_engine().stylize(draw_photo((12, 40), seed=1), preset="starry_night")


def test_it_keeps_the_photo_colours_when_asked(make_engine, photo):
    engine = make_engine()
    content_chroma = rgb_to_yiq(to_array(photo))[:, 1:]
    kept, free = (rgb_to_yiq(to_array(engine.stylize(photo, preset="great_wave", preserve_color=keep)))[:, 1:]
                  for keep in (True, False))
    kept_error = np.abs(kept - content_chroma).mean()
    assert kept_error < 0.02
    assert kept_error < 0.5 * np.abs(free - content_chroma).mean()


def test_it_reports_arbitrary_as_unavailable_without_its_weights(make_engine, photo):
    with pytest.raises(StyleCoreError, match="not installed"):
        make_engine().stylize(photo, preset="starry_night", method="arbitrary")
