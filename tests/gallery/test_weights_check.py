"""Damaged weights files: hidden or refused with a message, logged for the operator; the preview answers JSON."""

import shutil

import pytest
from django.urls import reverse

from gallery import jobs
from gallery.models import Preset, StyleJob
from stylecore.sidecars import write_sidecar
from tests.gallery.factories import TEST_PRESET
from tests.gallery.test_preview import _data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def damaged_weights(arbitrary_weights, tmp_path, settings):
    """A copy of the site's weights whose test preset network and any-style decoder no longer match the manifests."""
    weights = tmp_path / "weights"
    shutil.copytree(settings.STYLECORE_WEIGHTS, weights)
    network = weights / "presets" / f"{TEST_PRESET}.onnx"
    network.write_bytes(b"a network")
    write_sidecar(network, {"network": {}})
    network.write_bytes(b"a damaged network")
    decoder = weights / "arbitrary" / "decoder.onnx"
    decoder.write_bytes(decoder.read_bytes()[: decoder.stat().st_size // 2])
    settings.STYLECORE_WEIGHTS = weights
    for cached in (jobs.read_weights_problems, jobs.get_engine, jobs.get_preview_engine):
        cached.cache_clear()
    yield weights
    for cached in (jobs.read_weights_problems, jobs.get_engine, jobs.get_preview_engine):
        cached.cache_clear()


def test_it_hides_and_refuses_presets_with_damaged_weights_at_worker_start_and_still_optimizes(
    owner, make_job, run_worker, damaged_weights, caplog
):
    fast, arbitrary = make_job(owner, method="fast"), make_job(owner, method="arbitrary")
    optimize = make_job(owner, method="optimize")  # needs neither network: the preset's painting and the VGG

    run_worker()

    assert not Preset.objects.get(name=TEST_PRESET).is_active
    assert f"Weights file presets/{TEST_PRESET}.onnx is damaged" in caplog.text
    assert "Weights file arbitrary/decoder.onnx is damaged" in caplog.text
    fast.refresh_from_db(), arbitrary.refresh_from_db()
    assert (fast.status, fast.error) == (StyleJob.Status.FAILED, jobs.BROKEN_PRESET_MESSAGE)
    assert (arbitrary.status, arbitrary.error) == (StyleJob.Status.FAILED, jobs.BROKEN_ARBITRARY_MESSAGE)
    optimize.refresh_from_db()
    assert (optimize.status, optimize.error) == (StyleJob.Status.DONE, "")


def test_it_answers_a_preview_with_damaged_weights_with_a_json_error(clients, damaged_weights, redis_queue):
    response = clients["owner"].post(reverse("gallery:job_preview"), _data())
    assert response.status_code == 400
    assert response.json() == {"error": jobs.BROKEN_ARBITRARY_MESSAGE}


def test_it_hands_no_graph_of_a_damaged_any_style_network_to_browsers(client, damaged_weights):
    for graph in ("style", "encoder", "modulate", "decoder"):  # the decoder alone is damaged: it takes the others
        assert client.get(reverse("gallery:arbitrary_network", args=[graph])).status_code == 404
