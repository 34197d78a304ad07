"""Screenshots of the community pages (explore, an artwork page, the moderation queue, its owner's re-dial control)
for the README.

Starts its own embedded PostgreSQL and Redis in a temporary folder, paints real pictures with the trained presets in
``--weights`` (fast method, in this process), publishes them as a few demo users, files reports, and photographs the
pages in headless Chromium. Nothing touches ``var/``.

    python -m scripts.community_screenshots --weights weights photo1.jpg photo2.jpg ...
    python -m scripts.community_screenshots --weights weights --only 11-redial
"""

import argparse
import io
import os
import sys
import tempfile
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from matplotlib import cbook
from playwright.sync_api import sync_playwright

from scripts.localservers import start_postgres, start_redis

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "a-long-screenshot-passphrase"
SHOT_NAMES = ("06-explore", "07-artwork", "08-moderation-queue", "11-redial")
PEOPLE = [("clara", "Clara Monteiro"), ("hugo", "Hugo Brandt"), ("ines", "Inès Laurent"), ("tomas", "Tomás Ruiz")]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _configure(root: Path, weights: Path) -> tuple:
    postgres = start_postgres(root / "postgres")
    redis = start_redis(root / "redis", persist=False)
    os.environ.update(
        {
            "DATABASE_URL": postgres.get_uri(),
            "REDIS_URL": redis.url,
            "SECRET_KEY": "screenshots-only",
            "MEDIA_ROOT": str(root / "media"),
            "STATIC_ROOT": str(root / "static"),
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "STYLECORE_WEIGHTS": str(weights),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return postgres, redis


def _populate(photos: list[Path]) -> dict:
    """Demo users, real paintings (fast presets), likes and two reports. Returns what the shots need."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from gallery import community, jobs, moderation, services
    from gallery.models import Artwork, Preset, Report
    from gallery.images import clean_upload

    services.seed_presets(jobs.read_engine_presets())
    presets = list(Preset.objects.filter(is_active=True))
    users = []
    for username, name in PEOPLE:
        user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)
        services.update_profile(services.ensure_profile(user), name, None)
        users.append(user)
    moderator = get_user_model().objects.create_user("mona", "mona@example.com", PASSWORD, is_staff=True)
    moderator.user_permissions.add(Permission.objects.get(codename="moderate"))
    services.ensure_profile(moderator)

    artworks = []
    for index, photo in enumerate(photos):
        data = photo.read_bytes()
        request = services.JobRequest(
            content=clean_upload(io.BytesIO(data), size=len(data), max_bytes=10**8, max_pixels=10**8),
            content_name=photo.name,
            styles=(services.StyleChoice(preset=presets[index % len(presets)]),),
            method="fast",
            strength=1.0,
            preserve_color=False,
            max_side=768,
        )
        job = services.create_job(users[index % len(users)], request)
        jobs.run_style_job(job.pk)
        artwork = Artwork.objects.get(job=job)
        artwork.set_visibility("public")
        artworks.append(artwork)
        print(f"painted {photo.name} in {request.styles[0].preset.title}", flush=True)
    for index, artwork in enumerate(artworks):
        for fan in users[: (index * 3) % len(users) + 1]:
            if fan.pk != artwork.owner_id:
                community.set_like(fan, artwork, True)
    moderation.file_report(users[1], artworks[0], Report.Reason.COPYRIGHT, "This is my photo; I never shared it here.")
    moderation.file_report(users[2], artworks[0], Report.Reason.OTHER, "Looks copied from a photographer's site.")
    moderation.file_report(users[0], users[3], Report.Reason.SPAM, "Posts the same picture every day.")
    featured = artworks[len(artworks) // 3]
    # A re-dialed version, so the owner's list has two; the shot then moves the controls without saving.
    services.save_version(featured, jobs.redial_artwork(featured, 0.75, False), 0.75, False)
    return {"featured": featured}


def _serve() -> str:
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, StaticFilesHandler(get_wsgi_application()), handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    print(f"saved docs/screenshots/{name}.png", flush=True)


def _shoot(base: str, shown: dict, chromium: str, names: set[str]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    featured = shown["featured"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        _log_in(page, base, "hugo")
        for name, path in (("06-explore", "/explore/?sort=top"), ("07-artwork", f"/artworks/{featured.pk}/")):
            if name in names:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                _shot(page, name)
        if "08-moderation-queue" in names:
            desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _log_in(desk, base, "mona")
            desk.goto(f"{base}/admin/gallery/report/queue/")
            desk.wait_for_load_state("networkidle")
            _shot(desk, "08-moderation-queue")
        if "11-redial" in names:
            owner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _log_in(owner, base, featured.owner.username)
            owner.goto(f"{base}/artworks/{featured.pk}/")
            owner.wait_for_selector("[data-role=redial-canvas][data-ready=true]", state="attached")
            owner.fill("#id_strength", "0.55")
            owner.check("#id_preserve_color")
            owner.locator("[data-role=compare-range]").fill("30")
            owner.wait_for_selector("[data-role=redial-canvas]", state="visible")
            _shot(owner, "11-redial")
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True, help="folder with trained presets (presets/*.pt)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--only", nargs="+", choices=SHOT_NAMES, default=SHOT_NAMES, help="take only these shots")
    parser.add_argument("photos", type=Path, nargs="*", help="photos to paint (default: Grace Hopper's portrait)")
    args = parser.parse_args(argv)
    photos = args.photos or [Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    with tempfile.TemporaryDirectory(prefix="atelier-shots-") as folder:
        postgres, redis = _configure(Path(folder), args.weights.resolve())
        try:
            shown = _populate(photos)
            _shoot(_serve(), shown, args.chromium, set(args.only))
        finally:
            redis.stop()
            postgres.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
