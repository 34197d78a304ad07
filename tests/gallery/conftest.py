"""The cast every gallery test uses: an owner, another user, a moderator and an anonymous visitor."""

import shutil
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from playwright.sync_api import sync_playwright
from PIL import Image, ImageFile

from gallery import services
from gallery.models import Preset
from gallery.worker import AtelierWorker
from tests.gallery.factories import PASSWORD, TEST_PRESET, clean


def _user(django_user_model, username, **extra):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)
    services.ensure_profile(user)
    return user


@pytest.fixture
def owner(django_user_model):
    return _user(django_user_model, "olive")


@pytest.fixture
def other(django_user_model):
    return _user(django_user_model, "oscar")


@pytest.fixture
def moderator(django_user_model):
    from django.contrib.auth.models import Permission

    user = _user(django_user_model, "mona", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate", content_type__app_label="gallery"))
    return django_user_model.objects.get(pk=user.pk)  # a fresh instance: permissions are cached per instance


def _client_for(client_class, user):
    client = client_class()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def clients(owner, other, moderator):
    """One logged-in test client per role, plus an anonymous one."""
    from django.test import Client

    return {
        "owner": _client_for(Client, owner),
        "other": _client_for(Client, other),
        "moderator": _client_for(Client, moderator),
        "anonymous": _client_for(Client, None),
    }


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def redis_queue():
    """An empty Redis, and the queue make_job's jobs (the optimize method, by default) go to."""
    queue = django_rq.get_queue(settings.OPTIMIZE_QUEUE)
    queue.connection.flushdb()
    yield queue
    queue.connection.flushdb()


@pytest.fixture
def run_worker(redis_queue):
    """Run every queued job of both queues now, in this process, through a real Redis and a burst worker."""

    def run():
        worker = AtelierWorker(services.all_queues(), connection=redis_queue.connection)
        worker.work(burst=True)
        return worker

    return run


@pytest.fixture
def preset(db):
    from gallery.jobs import read_engine_presets

    services.seed_presets(read_engine_presets())
    return Preset.objects.get(name=TEST_PRESET)


SHIPPED_NETWORK = Path(__file__).resolve().parents[2] / "weights" / "presets" / "starry_night.onnx"


@pytest.fixture
def device_preset(preset):
    """The suite's preset with a trained ONNX network (a shipped one; the suite's own preset has none), so browsers
    and the engine can paint it with the fast method; ``.network`` is the installed file."""
    preset.network = Path(settings.STYLECORE_WEIGHTS) / "presets" / f"{preset.name}.onnx"
    shutil.copyfile(SHIPPED_NETWORK, preset.network)
    yield preset
    preset.network.unlink()


@pytest.fixture
def make_job(preset):
    """Create a job through the service layer, as the upload view does, tiny enough to run in seconds."""

    def make(user, **options):
        # One style by default: the test preset, or a new upload given as style=<CleanImage>.
        style, chosen = options.pop("style", None), options.pop("preset", preset)
        single = services.StyleChoice(upload=style) if style is not None else services.StyleChoice(preset=chosen)
        request = services.JobRequest(
            content=clean(),
            content_name="photo.jpg",
            styles=tuple(options.pop("styles", (single,))),
            method=options.pop("method", "optimize"),
            strength=options.pop("strength", 1.0),
            preserve_color=options.pop("preserve_color", False),
            max_side=options.pop("max_side", 64),
            style_scale=options.pop("style_scale", 512),
        )
        assert not options, f"unknown options {options}"
        return services.create_job(user, request)

    return make


@pytest.fixture
def make_artwork(make_job):
    """A finished artwork, as a worker would save it, with the given visibility; ``render=`` an image keeps it as
    the full-strength render (without one, the artwork is as those made before renders were kept)."""

    def make(user, visibility="private", render=None, **options):
        job = make_job(user, **options)
        job.mark_running("test-worker")
        artwork = services.save_artwork(job, Image.new("RGB", (64, 48), (200, 90, 40)), render)
        services.forget_rq_job(job.pk)  # as a run would end it: gone from RQ, its owner's turn in the queue over
        artwork.set_visibility(visibility)
        return artwork

    return make


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # The rate-limit counters live in the real Redis, which outlives a test.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2 is slow by design; tests create several users each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def patient_device_budget(settings):
    # Browser tests paint previews on the device while other tests load the same cores: a preview over the real
    # budget (1 s) would hand the next ones to the server. The test of that hand-over sets its own budget.
    settings.DEVICE_PREVIEW_BUDGET_MS = 60_000


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The size of every image Pillow decodes from a file during the test, in order: Pillow's own decoder runs, this
    only records each image whose pixels it reads (an image already loaded has nothing left to decode)."""
    sizes = []
    load = ImageFile.ImageFile.load

    def recording_load(image):
        if image.tile:
            sizes.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return sizes
