"""Acceptance run against a live `make run` site: fill the sign-up form, log in as the demo account (a new account
waits for its e-mail confirmation), upload, pick a preset and a size, watch, see the gallery.

Saves PNG screenshots to docs/screenshots/, the last three at a phone's width (390 px). Run
``python -m scripts.e2e_screenshots`` while `make run` is up. Environment: BASE_URL (default http://127.0.0.1:8000),
E2E_METHOD (default optimize, whose progress moves visibly), E2E_SIZE (default 512), E2E_PRESET
(default: the first preset on the page), E2E_STYLE_IMAGE (upload this style image instead of
picking a preset).

The photo is Grace Hopper's public-domain portrait that matplotlib ships as sample data.
"""

import os
import sys
import time
from pathlib import Path

from matplotlib import cbook
from playwright.sync_api import expect, sync_playwright

from scripts.run import DEMO_PASSWORD, DEMO_USERNAME

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "a-long-e2e-passphrase"


def _shot(page, name: str) -> None:
    # A full-page shot does not scroll, so lazy images below the fold would stay blank: load every image first.
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach((img) => { img.loading = 'eager'; })")
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"saved {path.relative_to(ROOT)}", flush=True)


def _choose_photo(page, photo: Path) -> None:
    """Choose the photo, and wait until each size says what it paints from it (static/gallery/sizes.js)."""
    page.set_input_files("#id_content", str(photo))
    page.wait_for_function("() => document.querySelector('input[name=max_side][value=photo]')"
                           ".closest('label').querySelector('[data-role=size-note]').textContent")


def _fits_the_phone(page, what: str) -> None:
    if page.evaluate("document.documentElement.scrollWidth") > 390:
        raise SystemExit(f"{what} is wider than a 390 px phone screen")


def _progress(page) -> int:
    return int(page.locator("[data-role=percent]").inner_text().rstrip("%"))


def _watch_job(page, timeout: float) -> list[int]:
    """Poll the page (which polls the server) until the job ends; return the progress values seen."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    shot_taken = False
    while time.monotonic() < deadline:
        status = page.locator("[data-role=status]").inner_text()
        value = _progress(page)
        if not seen or seen[-1] != value:
            seen.append(value)
        if not shot_taken and 20 <= value < 100:
            _shot(page, "03-progress")
            shot_taken = True
        if status in ("Done", "Failed", "Canceled"):
            if status != "Done":
                raise SystemExit(f"job ended as {status}: {page.locator('[data-role=error]').inner_text()}")
            return seen
        time.sleep(0.5)
    raise SystemExit(f"job did not finish within {timeout} s (progress seen: {seen})")


def main() -> int:
    base = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    method = os.environ.get("E2E_METHOD", "optimize")
    size = os.environ.get("E2E_SIZE", "512")
    preset = os.environ.get("E2E_PRESET")
    style_image = os.environ.get("E2E_STYLE_IMAGE")
    photo = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    username = f"painter{int(time.time())}"
    SHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()

        page.goto(f"{base}/")
        _shot(page, "00-home")

        page.goto(f"{base}/signup/")
        page.fill("#id_username", username)
        page.fill("#id_email", f"{username}@example.com")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        _shot(page, "01-signup")

        page.goto(f"{base}/accounts/login/?next=/jobs/new/")
        page.fill("#id_username", DEMO_USERNAME)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button:has-text('Log in')")
        expect(page.locator("h1")).to_have_text("Paint a new picture")

        _choose_photo(page, photo)
        if style_image:
            page.set_input_files("#id_styles-0-upload", style_image)
        else:
            option = page.locator(".preset-option")
            if preset:
                option = option.filter(has=page.locator(f"img[src*='/presets/{preset}/']"))
            option.first.click()
        page.select_option("#id_method", method)
        page.check(f'input[name=max_side][value="{size}"]')
        _shot(page, "02-new-picture")
        page.click("button:has-text('Paint it')")
        page.wait_for_url("**/jobs/*/")
        job_url = page.url

        seen = _watch_job(page, timeout=float(os.environ.get("E2E_TIMEOUT", "900")))
        print(f"progress seen: {seen}", flush=True)
        if len([value for value in seen if 0 < value < 100]) < 2:
            raise SystemExit(f"the progress bar did not visibly advance: {seen}")
        # "networkidle" fired once when the page loaded; the result image starts loading only now.
        page.wait_for_function(
            "() => { const img = document.querySelector('[data-role=result-image]'); return img.complete && img.naturalWidth; }"
        )
        page.wait_for_timeout(600)  # the progress bar's width transition (0.4 s)
        _shot(page, "04-result")

        page.click("text=← My gallery")
        page.wait_for_load_state("networkidle")
        expect(page.locator(".card.artwork").first).to_be_visible()
        _shot(page, "05-gallery")

        # On a phone (390 px, signed in as the same user): the form with a preset's preview painted on the phone itself
        # (Any style, the default method), the result, and the 404 page.
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, storage_state=page.context.storage_state()
        ).new_page()
        phone.goto(f"{base}/jobs/new/")
        _choose_photo(phone, photo)
        phone.locator(".preset-option").first.click()
        expect(phone.locator("[data-role=preview-status]")).to_contain_text("Painted on your device", timeout=60_000)
        _fits_the_phone(phone, "the new-picture form")
        _shot(phone, "12-phone-new-picture")
        phone.goto(job_url)
        phone.wait_for_load_state("networkidle")
        _fits_the_phone(phone, "the job page")
        _shot(phone, "09-phone-result")
        phone.goto(f"{base}/no-such-page/")
        _shot(phone, "10-phone-not-found")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
