"""The fast presets' networks served to browsers that paint on the visitor's device."""

import hashlib

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _url(name: str) -> str:
    return reverse("gallery:preset_network", args=[name])


def test_it_serves_a_presets_network_to_everyone_with_its_sha256_as_etag(clients, device_preset):
    expected = device_preset.network.read_bytes()
    for role, client in clients.items():
        response = client.get(_url(device_preset.name))
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content) == expected
        assert response["ETag"] == f'"{hashlib.sha256(expected).hexdigest()}"'
        assert response["Cache-Control"] == "public, max-age=3600"
        assert response["Content-Type"] == "application/octet-stream"


def test_it_answers_a_revalidation_with_not_modified(client, device_preset):
    etag = client.get(_url(device_preset.name))["ETag"]
    assert client.get(_url(device_preset.name), headers={"if-none-match": etag}).status_code == 304
    assert client.get(_url(device_preset.name), headers={"if-none-match": '"stale"'}).status_code == 200


def test_it_changes_the_etag_when_the_network_is_replaced(client, device_preset, settings, tmp_path):
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / f"{device_preset.name}.onnx").write_bytes(b"first")
    settings.STYLECORE_WEIGHTS = tmp_path
    first = client.get(_url(device_preset.name))["ETag"]
    (folder / f"{device_preset.name}.onnx").write_bytes(b"second!")
    assert client.get(_url(device_preset.name))["ETag"] == f'"{hashlib.sha256(b"second!").hexdigest()}"' != first


def test_it_has_no_network_for_untrained_or_unknown_presets(client, preset):
    assert client.get(_url(preset.name)).status_code == 404  # the suite's preset has a painting but no network
    assert client.get(_url("no-such-preset")).status_code == 404


def test_it_has_no_network_for_a_withdrawn_preset(client, device_preset):
    device_preset.is_active = False
    device_preset.save()
    assert client.get(_url(device_preset.name)).status_code == 404


def test_it_refuses_writes(client, device_preset):
    assert client.post(_url(device_preset.name)).status_code == 405
