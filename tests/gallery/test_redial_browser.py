"""The re-dial control in a real headless Chromium: the canvas preview changes at once and is the version saved."""

import io

import numpy as np
import pytest
from playwright.sync_api import expect
from PIL import Image

from gallery import images, services
from gallery.models import Artwork
from scripts.device_timing import photo
from tests.gallery.factories import PASSWORD, clean

pytestmark = pytest.mark.django_db(transaction=True)
TOLERANCE = 0.5  # mean absolute difference, in 0-255 levels: float32 in numpy, float64 in JavaScript


@pytest.fixture
def artwork(owner, device_preset, run_worker):
    """A real photo (600 px, stored as a JPEG) painted at 320 px by a worker with a shipped network."""
    request = services.JobRequest(
        content=clean(images.encode_jpeg(photo(600), quality=95)),
        content_name="hopper.jpg",
        styles=(services.StyleChoice(preset=device_preset),),
        method="fast",
        strength=0.9,
        preserve_color=False,
        max_side=320,
    )
    job = services.create_job(owner, request)
    run_worker()
    return Artwork.objects.get(job=job)


def _canvas(page) -> np.ndarray:
    data = page.evaluate("""() => {
      const canvas = document.querySelector("[data-role=redial-canvas]");
      return Array.from(canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data);
    }""")
    width, height = page.evaluate("() => [document.querySelector('[data-role=redial-canvas]').width,"
                                  " document.querySelector('[data-role=redial-canvas]').height]")
    return np.array(data, np.uint8).reshape(height, width, 4)[:, :, :3]


def test_it_previews_a_redial_on_the_canvas_and_saves_it_as_the_new_version(page, live_server, owner, artwork):
    refused = []  # script errors, and anything the Content-Security-Policy blocks (the site has no favicon: not that)
    page.on("pageerror", lambda error: refused.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}/artworks/{artwork.pk}/")

    canvas = page.locator("[data-role=redial-canvas]")
    expect(canvas).to_have_attribute("data-ready", "true", timeout=20_000)
    expect(canvas).to_be_hidden()
    before = _canvas(page)
    page.locator("#id_strength").fill("0.45")
    page.locator("#id_preserve_color").check()
    expect(canvas).to_be_visible()
    expect(page.locator("[data-role=result-image]")).to_be_hidden()
    expect(page.locator("[data-role=redial-badge]")).to_be_visible()
    expect(page.locator("[data-role=redial-strength-value]")).to_have_text("0.45")
    expect(canvas).to_have_attribute("data-preserve-color", "true")
    preview = _canvas(page)
    assert np.abs(preview.astype(int) - before.astype(int)).mean() > 5, "the canvas did not change"

    page.click("[data-role=redial-save]")
    expect(page.locator(".messages")).to_contain_text("Saved as version 2: strength 0.45, photo colours kept")
    versions = page.locator("[data-role=version]")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("Strength 0.45 · colours kept")
    expect(versions.first.locator("[data-role=version-shown]")).to_be_visible()
    expect(page.locator("[data-role=shown-strength]")).to_have_text("0.45")

    artwork.refresh_from_db()
    assert (artwork.current_version.number, artwork.current_version.strength) == (2, 0.45)
    with artwork.image.open("rb") as handle:
        saved = np.asarray(Image.open(io.BytesIO(handle.read())).convert("RGB"))
    assert saved.shape == preview.shape == (artwork.height, artwork.width, 3)
    difference = np.abs(saved.astype(int) - preview.astype(int))
    assert difference.mean() <= TOLERANCE, f"preview and saved version differ by {difference.mean():.3f} / 255"
    assert refused == []


def test_it_goes_back_to_an_earlier_version_from_the_list(page, live_server, owner, artwork):
    first = artwork.current_version
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}/artworks/{artwork.pk}/")
    expect(page.locator("[data-role=redial-canvas]")).to_have_attribute("data-ready", "true", timeout=20_000)
    page.locator("#id_strength").fill("0.3")
    page.click("[data-role=redial-save]")
    expect(page.locator("[data-role=version]")).to_have_count(2)

    page.locator("[data-role=version][data-number='1'] [data-role=version-show]").click()
    expect(page.locator("body")).to_contain_text("Showing version 1 again")
    expect(page.locator("[data-role=version][data-number='1'] [data-role=version-shown]")).to_be_visible()
    expect(page.locator("#id_strength")).to_have_value("0.9")
    artwork.refresh_from_db()
    assert artwork.current_version == first and artwork.image.name == first.image.name
