"""Seeding mirrors the engine's presets and creates the demo account, and both can run again safely."""

import pytest
from django.core.management import call_command

from gallery import services
from gallery.models import Preset
from tests.gallery.factories import TEST_PRESET

pytestmark = pytest.mark.django_db


def test_it_mirrors_the_engine_presets_with_their_previews():
    call_command("seed_presets")
    call_command("seed_presets")

    preset = Preset.objects.get()
    assert (preset.name, preset.title, preset.artist, preset.is_active) == (TEST_PRESET, "Bands", "Test Painter", True)
    with preset.preview.open("rb") as handle:
        assert handle.read(2) == b"\xff\xd8"


def test_it_deactivates_presets_the_engine_no_longer_offers():
    retired = Preset.objects.create(name="retired", title="Retired")

    call_command("seed_presets")

    retired.refresh_from_db()
    assert not retired.is_active
    assert Preset.objects.get(name=TEST_PRESET).is_active


def test_it_creates_the_demo_account_once_and_restores_its_printed_password(django_user_model):
    call_command("seed_demo", "--username", "demo", "--password", "demo-pass-123")
    user = django_user_model.objects.get(username="demo")
    user.set_password("changed-by-the-demo-user")
    user.save()

    services.ensure_demo_user("demo", "demo-pass-123", "demo@example.com")

    assert django_user_model.objects.filter(username="demo").count() == 1
    user.refresh_from_db()
    assert user.check_password("demo-pass-123") and user.profile.display_name == "Demo Artist"
