"""check_weights: every file a manifest lists is there, with its size and SHA-256."""

from stylecore import check_weights
from stylecore.sidecars import write_sidecar


def test_it_reports_missing_resized_and_altered_weights_files(tmp_path):
    folder = tmp_path / "presets"
    folder.mkdir()
    for name in ("kept.onnx", "altered.onnx", "truncated.onnx", "missing.onnx"):
        (folder / name).write_bytes(bytes(range(200)))
        write_sidecar(folder / name, {"network": {}})
    assert check_weights(tmp_path) == {}

    (folder / "altered.onnx").write_bytes(bytes(reversed(range(200))))
    (folder / "truncated.onnx").write_bytes(bytes(range(100)))
    (folder / "missing.onnx").unlink()

    assert check_weights(tmp_path) == {
        "presets/altered.onnx": "its SHA-256 differs from the manifest's",
        "presets/truncated.onnx": "100 bytes, the manifest says 200",
        "presets/missing.onnx": "missing",
    }
