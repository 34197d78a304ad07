"""The new-picture form's controls, measured on a real photo through the shipped any-style network (issue 26, "The
controls barely change the picture"): every step of a control changes the picture visibly, and by about as much as
the other steps of that control.

A change is the mean absolute difference of two renders, in 0-255 levels, as the issue measured it. The photo is
Grace Hopper's portrait at 512 px (the smallest size a job paints), the styles are shipped presets' paintings.
"""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gallery.forms import STYLE_SCALE_CHOICES, StyleJobForm, StyleRowForm
from gallery.models import SourceImage
from scripts.device_timing import photo
from stylecore import Engine, EngineConfig
from tests.gallery.factories import upload

pytestmark = pytest.mark.django_db
WEIGHTS = Path(__file__).resolve().parents[2] / "weights"
SIDE = 512
VISIBLE = 3  # of 255: a step smaller than this is hard to see
EVEN = 1.35  # no step of a control may change the picture by more than this many times another step of it


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(WEIGHTS, EngineConfig(threads=1))


@pytest.fixture(scope="module")
def hopper() -> Image.Image:
    return photo(SIDE)


def _painting(name: str) -> Image.Image:
    with Image.open(WEIGHTS / "presets" / f"{name}.style.jpg") as painting:
        return painting.convert("RGB")


def _render(engine, picture, style, **options) -> np.ndarray:
    out = engine.stylize(picture, style=style, method="arbitrary", max_side=SIDE, **options)
    return np.asarray(out, dtype=np.float32)


def _steps(renders: list[np.ndarray]) -> list[float]:
    return [float(np.abs(b - a).mean()) for a, b in zip(renders, renders[1:])]


def _assert_visible_and_even(steps: list[float], what: str) -> None:
    assert min(steps) > VISIBLE, f"{what}: a step changes the picture by only {min(steps):.1f}/255 ({steps})"
    assert max(steps) < EVEN * min(steps), f"{what}: uneven steps {[round(step, 1) for step in steps]}"


@pytest.mark.parametrize("style", ["mauclair_woodcut", "udnie", "great_wave"])
def test_each_brush_step_changes_the_strokes_by_about_as_much(engine, hopper, style):
    brushes = dict(STYLE_SCALE_CHOICES)
    assert [label.split()[0] for label in brushes.values()] == ["Fine", "Medium", "Bold"]
    renders = [_render(engine, hopper, _painting(style), style_scale=scale) for scale in brushes]
    _assert_visible_and_even(_steps(renders), f"brush strokes with {style}")


def test_each_strength_step_changes_the_picture_by_the_same_amount(engine, hopper):
    field = StyleJobForm.base_fields["strength"]
    strengths = np.linspace(field.min_value, field.max_value, 5)
    renders = [_render(engine, hopper, _painting("great_wave"), strength=float(value)) for value in strengths]
    steps = _steps(renders)
    assert min(steps) > VISIBLE and max(steps) < 1.05 * min(steps), steps


def _row(owner, painting: Image.Image, weight: float) -> StyleRowForm:
    buffer = io.BytesIO()
    painting.save(buffer, format="PNG")
    form = StyleRowForm(data={"weight": str(weight)}, files={"upload": upload("p.png", buffer.getvalue(), "image/png")},
                        owner=owner, shared=SourceImage.objects.none())
    assert form.is_valid(), form.errors
    return form


@pytest.mark.parametrize("first, second", [("great_wave", "starry_night"), ("udnie", "mauclair_woodcut")])
def test_each_step_of_a_blend_weight_moves_the_picture_by_about_as_much(engine, hopper, owner, first, second):
    # The second style's slider across its range, the first's at full weight: as the form sends them.
    field = StyleRowForm.base_fields["weight"]
    paintings = [_painting(first), _painting(second)]
    renders = []
    for position in np.linspace(field.min_value, field.max_value, 5):
        rows = [_row(owner, paintings[0], 1.0), _row(owner, paintings[1], float(position))]
        weights = [row.to_choice().weight for row in rows]
        renders.append(_render(engine, hopper, paintings, style_weights=weights))
    _assert_visible_and_even(_steps(renders), f"the weight of {second} against {first}")


@pytest.mark.parametrize("style", ["great_wave", "udnie"])
def test_keeping_the_photos_colours_changes_the_picture_visibly_towards_them(engine, hopper, style):
    painted, kept = (_render(engine, hopper, _painting(style), preserve_color=on) for on in (False, True))
    assert np.abs(kept - painted).mean() > 5 * VISIBLE
    photo_colour = np.asarray(hopper.resize(kept.shape[1::-1]), dtype=np.float32).mean(axis=(0, 1))
    assert np.abs(kept.mean(axis=(0, 1)) - photo_colour).max() < 0.5 * np.abs(painted.mean(axis=(0, 1)) - photo_colour).max()
