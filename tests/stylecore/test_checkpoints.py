import json
import shutil
from pathlib import Path

import pytest
import torch

from stylecore import Engine
from stylecore.backbones import BACKBONES
from stylecore.errors import CheckpointError, UnknownPresetError
from stylecore.networks import TransformerConfig, TransformerNet
from stylecore.presets import read_presets
from stylecore.sidecars import KEYS, file_sha256, read_manifest, sidecar_path, write_sidecar

from .synthetic import PRESET_NAMES


@pytest.fixture
def weights_copy(tiny_weights, tmp_path):
    target = tmp_path / "weights"
    shutil.copytree(tiny_weights, target)
    return target


def test_it_loads_released_presets_with_their_metadata(tiny_weights, photo):
    engine = Engine.load(tiny_weights, threads=1, runtime="torch")
    presets = {p.name: p for p in engine.presets()}
    assert sorted(presets) == sorted(PRESET_NAMES)
    night = presets["starry_night"]
    assert (night.title, night.artist) == ("The Starry Night", "Vincent van Gogh")
    assert night.metadata["steps"] == 16
    assert night.metadata["metrics"]["style_distance"] > 0
    assert night.preview_path.exists() and night.style_path.exists()
    assert engine.stylize(photo, preset="starry_night").size == photo.size


def test_it_writes_metadata_beside_every_weights_file(tiny_weights, tiny_run):
    files = [tiny_weights / "presets" / f"{n}.{ext}" for n in PRESET_NAMES for ext in ("pt", "onnx")]
    files += [tiny_run / "checkpoint.pt"]
    for path in files:
        meta = json.loads(sidecar_path(path).read_text())
        assert set(KEYS) - {"network"} <= set(meta), path
        assert meta["backbone"] == "vgg16-imagenet" and meta["steps"] == 16 and meta["config"]["steps"] == 16
    onnx = json.loads(sidecar_path(tiny_weights / "presets" / "starry_night.onnx").read_text())
    assert onnx["exported_from"] == "starry_night.pt" and onnx["parity_max_abs_diff"] < 1e-3
    assert onnx["metrics"]["style_distance"] > 0


def test_the_manifest_lists_each_weights_file_with_its_hash(tiny_weights, tiny_run, tmp_path):
    for folder, names in ((tiny_weights / "presets", [f"{n}.{e}" for n in PRESET_NAMES for e in ("pt", "onnx")]),
                          (tiny_run, ["checkpoint.pt"])):
        files = read_manifest(folder)
        assert sorted(files) == sorted(names)
        for name in names:
            entry = files[name]
            assert entry["metadata"] == f"{name}.json" and (folder / entry["metadata"]).exists()
            assert (entry["bytes"], entry["sha256"]) == ((folder / name).stat().st_size, file_sha256(folder / name))
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"first")
    write_sidecar(weights, {"steps": 1})
    weights.write_bytes(b"second, longer")
    write_sidecar(weights, {"steps": 2})
    assert read_manifest(tmp_path) == {"model.pt": {"metadata": "model.pt.json", "bytes": 14,
                                                    "sha256": file_sha256(weights)}}


SHIPPED = Path(__file__).resolve().parents[2] / "weights"


@pytest.mark.parametrize("path", sorted(p.relative_to(SHIPPED).as_posix() for ext in ("pt", "onnx")
                                        for p in SHIPPED.rglob(f"*.{ext}")))
def test_every_shipped_weights_file_matches_its_metadata(path):
    weights = SHIPPED / path
    entry = read_manifest(weights.parent).get(weights.name)
    assert entry is not None, f"{path} is not in {weights.parent.name}/manifest.json"
    assert entry["sha256"] == file_sha256(weights), f"{path} changed since its metadata was written"
    meta = json.loads((weights.parent / entry["metadata"]).read_text())
    assert {"config", "backbone", "steps", "metrics"} <= set(meta)
    # The any-style network may ship as MicroAST's authors published it: not trained here, on none of our backbones.
    assert meta["backbone"] in BACKBONES or (meta["backbone"] is None and meta["steps"] == 0)


def test_it_lists_presets_but_not_their_weights_metadata(tiny_weights):
    assert sorted(read_presets(tiny_weights)) == sorted(PRESET_NAMES)


def test_it_releases_different_networks_per_style(tiny_weights):
    a, b = (torch.load(tiny_weights / "presets" / f"{n}.pt", weights_only=True) for n in PRESET_NAMES)
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_it_rejects_a_corrupt_weights_file(weights_copy, photo):
    (weights_copy / "presets" / "starry_night.pt").write_bytes(b"\x00garbage")
    engine = Engine.load(weights_copy, threads=1, runtime="torch")
    with pytest.raises(CheckpointError, match="corrupt"):
        engine.stylize(photo, preset="starry_night")


def test_it_rejects_weights_of_the_wrong_shape(weights_copy, photo):
    wider = TransformerNet(TransformerConfig(width=16, res_blocks=1))
    torch.save(wider.state_dict(), weights_copy / "presets" / "starry_night.pt")
    engine = Engine.load(weights_copy, threads=1, runtime="torch")
    with pytest.raises(CheckpointError, match="does not fit"):
        engine.stylize(photo, preset="starry_night")


@pytest.mark.parametrize("metadata", ["{not json", json.dumps({"title": "no artist"})])
def test_it_rejects_malformed_metadata(weights_copy, metadata):
    (weights_copy / "presets" / "great_wave.json").write_text(metadata)
    with pytest.raises(CheckpointError, match="malformed"):
        Engine.load(weights_copy)


def test_it_rejects_an_unknown_preset(tiny_weights, photo):
    engine = Engine.load(tiny_weights, threads=1)
    with pytest.raises(UnknownPresetError, match="great_wave, starry_night"):
        engine.stylize(photo, preset="mona_lisa")
