"""The networks and paintings served to browsers that paint on the visitor's device: the fast presets' networks,
their paintings, and the any-style network's four graphs."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from gallery import networks

pytestmark = pytest.mark.django_db


def _url(name: str) -> str:
    return reverse("gallery:preset_network", args=[name])


def _assert_public_file(clients, url: str, expected: bytes, content_type: str) -> None:
    for role, client in clients.items():
        response = client.get(url)
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content) == expected
        assert response["ETag"] == f'"{hashlib.sha256(expected).hexdigest()}"'
        assert response["Cache-Control"] == "public, max-age=3600"
        assert response["Content-Type"] == content_type


def test_it_serves_a_presets_network_to_everyone_with_its_sha256_as_etag(clients, device_preset):
    _assert_public_file(clients, _url(device_preset.name), device_preset.network.read_bytes(), "application/octet-stream")


def test_it_serves_a_presets_painting_to_everyone(clients, preset):
    painting = Path(settings.STYLECORE_WEIGHTS) / "presets" / f"{preset.name}.style.jpg"
    _assert_public_file(clients, reverse("gallery:preset_painting", args=[preset.name]), painting.read_bytes(),
                        "image/jpeg")


@pytest.mark.parametrize("graph", networks.ARBITRARY_GRAPHS)
def test_it_serves_the_any_style_graphs_to_everyone(clients, arbitrary_weights, graph):
    _assert_public_file(clients, reverse("gallery:arbitrary_network", args=[graph]),
                        (arbitrary_weights / f"{graph}.onnx").read_bytes(), "application/octet-stream")


def test_it_serves_no_other_file_of_the_any_style_folder(client, arbitrary_weights):
    assert (arbitrary_weights / "microast.pt").is_file()
    for name in ("microast", "manifest", "style.onnx"):
        assert client.get(f"/any-style/{name}.onnx").status_code == 404


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


def test_it_has_no_network_or_painting_for_a_withdrawn_preset(client, device_preset):
    device_preset.is_active = False
    device_preset.save()
    assert client.get(_url(device_preset.name)).status_code == 404
    assert client.get(reverse("gallery:preset_painting", args=[device_preset.name])).status_code == 404


def test_it_refuses_writes(client, device_preset, arbitrary_weights):
    assert client.post(_url(device_preset.name)).status_code == 405
    assert client.post(reverse("gallery:preset_painting", args=[device_preset.name])).status_code == 405
    assert client.post(reverse("gallery:arbitrary_network", args=["decoder"])).status_code == 405
