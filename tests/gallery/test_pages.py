"""The whole path in a real headless Chromium against a live server: sign up to a painted picture."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from gallery.models import Artwork, StyleJob
from tests.gallery.factories import PASSWORD, TEST_PRESET, image_bytes

@pytest.mark.django_db(transaction=True)
def test_it_takes_a_new_user_from_sign_up_to_a_painted_picture(page, live_server, preset, run_worker, tmp_path):
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(image_bytes(size=(160, 120)))

    page.goto(f"{live_server.url}/signup/")
    page.fill("#id_username", "painter")
    page.fill("#id_email", "painter@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button:has-text('Sign up')")
    expect(page.locator("h1")).to_have_text("Check your e-mail")
    link = re.search(r"https?://\S+/signup/confirm/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Paint a new picture")

    page.set_input_files("#id_content", str(photo))
    page.click(f".preset-option:has(input[value='{preset.pk}'])")
    page.select_option("#id_method", "optimize")
    page.check('input[name=max_side][value="64"]')
    page.click("button:has-text('Paint it')")

    expect(page.locator("[data-role=status]")).to_have_text("Queued")
    expect(page.locator("[data-role=queue]")).to_have_text("Position 1 in the queue")
    run_worker()
    expect(page.locator("[data-role=status]")).to_have_text("Done", timeout=15_000)
    expect(page.locator("[data-role=percent]")).to_have_text("100%")
    expect(page.locator("[data-role=result]")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-role=result-image]').complete")
    assert page.eval_on_selector("[data-role=result-image]", "img => img.naturalWidth") == 64

    page.click("text=Open the artwork page")
    expect(page.locator("[data-role=download]")).to_have_text("Download full size")
    page.click("text=My gallery")
    card = page.locator(".card.artwork")
    expect(card).to_have_count(1)
    page.wait_for_load_state("networkidle")
    widths = page.eval_on_selector_all(".card.artwork img", "imgs => imgs.map(img => img.naturalWidth)")
    assert len(widths) == 3 and all(width > 0 for width in widths)
    job = StyleJob.objects.get(owner__username="painter")
    assert job.styles.get().preset.name == TEST_PRESET and Artwork.objects.filter(job=job).exists()


@pytest.mark.django_db(transaction=True)
def test_it_shows_upload_errors_in_the_form(page, live_server, preset, owner, tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_bytes(b"these are my notes, not a photo")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}/jobs/new/")

    page.set_input_files("#id_content", str(fake))
    page.click(f".preset-option:has(input[value='{preset.pk}'])")
    page.select_option("#id_method", "optimize")
    page.click("button:has-text('Paint it')")

    expect(page.locator(".error")).to_contain_text("not an image we can read")
    assert not StyleJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_previews_an_uploaded_style_live_on_the_server_when_the_device_cannot(
    page, live_server, owner, arbitrary_weights, run_worker, tmp_path
):
    page.route("**/static/onnxruntime-web/**", lambda route: route.abort())  # no WebAssembly runtime on this device
    photo, style = tmp_path / "photo.jpg", tmp_path / "style.jpg"
    photo.write_bytes(image_bytes(size=(400, 300)))
    style.write_bytes(image_bytes(size=(300, 300), color=(200, 40, 40)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}/jobs/new/")
    previews = []
    page.on("response", lambda response: "/jobs/preview/" in response.url and previews.append(response.status))

    page.set_input_files("#id_content", str(photo))
    page.set_input_files("#id_styles-0-upload", str(style))
    expect(page.locator("#id_method")).to_have_value("arbitrary")
    image = page.locator("[data-role=preview-image]")
    expect(image).to_have_attribute("data-strength", "1", timeout=15_000)
    first_src = image.get_attribute("src")
    # The browser shrinks the 400x300 photo to the preview's 256 px before sending it.
    page.wait_for_function("() => document.querySelector('[data-role=preview-image]').complete")
    assert page.eval_on_selector("[data-role=preview-image]", "img => img.naturalWidth") == 256
    expect(page.locator("[data-role=preview-status]")).to_have_text("Painted on our server: 256 px, strength 1.")

    page.fill("#id_strength", "0.4")
    expect(page.locator("[data-role=strength-value]")).to_have_text("0.40")
    expect(image).to_have_attribute("data-strength", "0.4", timeout=15_000)
    assert image.get_attribute("src") != first_src
    assert previews and set(previews) == {200}

    page.check('input[name=max_side][value="64"]')
    page.click("button:has-text('Paint it')")
    expect(page.locator("[data-role=status]")).to_have_text("Queued")
    run_worker()
    expect(page.locator("[data-role=status]")).to_have_text("Done", timeout=15_000)
    job = StyleJob.objects.get(owner=owner)
    assert (job.method, job.strength, job.styles.get().image.kind) == ("arbitrary", 0.4, "style")
