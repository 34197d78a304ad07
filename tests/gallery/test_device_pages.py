"""Fast presets painted in the visitor's browser by onnxruntime-web, against the engine's render of the same photo,
and the form's choice between the device and the server (any style's own checks: test_device_any_style.py)."""

import base64
import io
import re

import pytest
from django.conf import settings
from django.templatetags.static import static
from playwright.sync_api import expect
from PIL import Image
from stylecore import Engine

from gallery import services
from gallery.models import Artwork
from scripts.device_timing import builds, fast_network, mean_difference, paint_in_page, photo
from tests.gallery.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.gallery.factories import PASSWORD, image_bytes

pytestmark = pytest.mark.django_db(transaction=True)
TOLERANCE = 2  # mean absolute difference, in 0-255 levels


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def server_render(image: Image.Image, preset: str, **options) -> Image.Image:
    """The engine's fast render, as a worker paints it (ONNX Runtime, the same network file)."""
    engine = Engine.load(settings.STYLECORE_WEIGHTS)
    return engine.stylize(image, preset=preset, method="fast", max_side=max(image.size), **options)


def open_form(page, base_url: str, user) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{base_url}/jobs/new/")


def shown_preview(page) -> Image.Image:
    """The picture the form's live preview shows."""
    shown = page.evaluate("""async () => {
      const shown = await fetch(document.querySelector("[data-role=preview-image]").src);
      const bytes = new Uint8Array(await shown.arrayBuffer());
      return btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
    }""")
    return Image.open(io.BytesIO(base64.b64decode(shown))).convert("RGB")


def test_it_paints_the_live_preview_on_the_device_like_the_server(page, live_server, owner, device_preset, tmp_path):
    picture = photo(256)  # already the preview's size, so the browser does not resample it
    (tmp_path / "hopper.png").write_bytes(png(picture))
    server_previews = []
    page.on("request", lambda request: "/jobs/preview/" in request.url and server_previews.append(request.url))
    open_form(page, live_server.url, owner)
    page.set_input_files("#id_content", str(tmp_path / "hopper.png"))
    page.click(f".preset-option:has(input[value='{device_preset.pk}'])")
    page.select_option("#id_method", "fast")

    status = page.locator("[data-role=preview-status]")
    expect(status).to_contain_text("Painted on your device (WebAssembly", timeout=60_000)
    preview = page.locator("[data-role=preview-image]")
    expect(preview).to_have_attribute("data-painted-on", "device")
    assert mean_difference(shown_preview(page), server_render(picture, device_preset.name)) <= TOLERANCE

    page.fill("#id_strength", "0.5")
    expect(preview).to_have_attribute("data-strength", "0.5", timeout=30_000)
    expect(status).to_contain_text("Painted on your device")
    assert server_previews == []


def test_it_keeps_the_photos_colours_and_the_strength_as_the_engine_does(page, live_server, owner, device_preset):
    picture = photo(512)
    open_form(page, live_server.url, owner)
    network = page.get_attribute(f".preset-option:has(input[value='{device_preset.pk}'])", "data-network")
    ort = builds(lambda file: live_server.url + static(f"onnxruntime-web/{file}"))
    painted, backend, _ = paint_in_page(page, ort, fast_network(network), picture, strength=0.6, preserveColor=True)
    assert backend == "WebAssembly"
    expected = server_render(picture, device_preset.name, strength=0.6, preserve_color=True)
    assert mean_difference(painted, expected) <= TOLERANCE
    # And the check can fail: the full-strength painting is far from this one.
    assert mean_difference(painted, server_render(picture, device_preset.name)) > 10


def test_it_keeps_any_style_when_a_preset_is_picked_and_paints_either_method_on_the_device(
    page, live_server, owner, device_preset, arbitrary_weights, tmp_path
):
    (tmp_path / "hopper.png").write_bytes(png(photo(256)))
    (tmp_path / "style.jpg").write_bytes(image_bytes(size=(96, 96), color=(200, 40, 40)))
    open_form(page, live_server.url, owner)
    method, status = page.locator("#id_method"), page.locator("[data-role=preview-status]")
    preview = page.locator("[data-role=preview-image]")
    expect(method).to_have_value("arbitrary")
    page.set_input_files("#id_content", str(tmp_path / "hopper.png"))
    page.click(f".preset-option:has(input[value='{device_preset.pk}'])")
    expect(preview).to_have_attribute("data-render", re.compile("^arbitrary /presets/"), timeout=60_000)
    expect(status).to_contain_text("Painted on your device (WebAssembly")
    expect(method).to_have_value("arbitrary")
    expect(page.locator("[data-role=paint-on-device]")).to_be_visible()

    page.select_option("#id_method", "fast")
    expect(preview).to_have_attribute("data-render", re.compile("^fast /presets/"), timeout=60_000)
    expect(status).to_contain_text("Painted on your device (WebAssembly")
    expect(page.locator("[data-role=paint-on-device]")).to_be_visible()
    # An own style is not the fast method's to paint: the page goes back to Any style.
    page.set_input_files("#id_styles-0-upload", str(tmp_path / "style.jpg"))
    expect(method).to_have_value("arbitrary")


def test_it_paints_on_the_server_when_onnxruntime_web_does_not_load(
    page, live_server, owner, device_preset, arbitrary_weights, redis_queue, tmp_path
):
    (tmp_path / "hopper.png").write_bytes(png(photo(256)))
    page.route("**/static/onnxruntime-web/**", lambda route: route.abort())
    open_form(page, live_server.url, owner)
    page.set_input_files("#id_content", str(tmp_path / "hopper.png"))
    page.click(f".preset-option:has(input[value='{device_preset.pk}'])")
    status = page.locator("[data-role=preview-status]")
    expect(status).to_have_text("Painted on our server: 256 px, strength 1.", timeout=30_000)  # Any style
    page.select_option("#id_method", "fast")
    expect(status).to_have_text("Painted on our server, with the Any style method: 256 px, strength 1.", timeout=30_000)
    expect(page.locator("[data-role=preview-image]")).to_have_attribute("data-painted-on", "server")
    expect(page.locator("[data-role=paint-on-device]")).to_be_hidden()  # offered once this device painted a preview


def test_it_paints_the_whole_picture_on_the_device_into_the_gallery(
    page, live_server, owner, device_preset, redis_queue, tmp_path
):
    picture = photo(512)  # the size asked for, so neither side resamples it
    (tmp_path / "hopper.png").write_bytes(png(picture))
    open_form(page, live_server.url, owner)
    page.set_input_files("#id_content", str(tmp_path / "hopper.png"))
    page.click(f".preset-option:has(input[value='{device_preset.pk}'])")
    page.select_option("#id_method", "fast")
    page.check('input[name=max_side][value="512"]')
    button = page.locator("[data-role=paint-on-device]")
    expect(button).to_be_visible(timeout=60_000)
    button.click()
    page.wait_for_url(f"{live_server.url}/artworks/*/")

    artwork = Artwork.objects.get()
    assert (artwork.owner, artwork.width, artwork.height) == (owner, *picture.size)
    assert artwork.job.worker_id == services.DEVICE_WORKER and redis_queue.count == 0
    with artwork.image.open("rb") as handle:
        stored = Image.open(handle).convert("RGB")
    assert mean_difference(stored, server_render(picture, device_preset.name)) <= TOLERANCE



def test_a_software_webgpu_adapter_paints_on_webassembly(browser, live_server, owner, device_preset):
    """SwiftShader's WebGPU adapter is far slower than WebAssembly: device.js must not take it."""
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--disable-gpu"] + ["--enable-unsafe-webgpu"]
    webgpu = browser.browser_type.launch(executable_path=CHROMIUM, args=flags)
    try:
        page = webgpu.new_page()
        open_form(page, live_server.url, owner)
        adapter = page.evaluate("""async () => {
          const adapter = await navigator.gpu.requestAdapter();
          return adapter && {fallback: Boolean(adapter.info && adapter.info.isFallbackAdapter)};
        }""")
        assert adapter == {"fallback": True}  # the browser does offer WebGPU, through a software adapter
        network = page.get_attribute(f".preset-option:has(input[value='{device_preset.pk}'])", "data-network")
        ort = builds(lambda file: live_server.url + static(f"onnxruntime-web/{file}"))
        picture = photo(64)
        painted, backend, _ = paint_in_page(page, ort, fast_network(network), picture)
    finally:
        webgpu.close()
    assert backend == "WebAssembly"
    assert mean_difference(painted, server_render(picture, device_preset.name)) <= TOLERANCE
