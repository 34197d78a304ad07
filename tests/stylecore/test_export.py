import numpy as np
import onnxruntime as ort
import torch

from stylecore.presets import load_transformer, read_presets


def test_it_exports_onnx_that_matches_pytorch_at_another_size(tiny_weights):
    for preset in read_presets(tiny_weights).values():
        net = load_transformer(preset.weights_path, preset.metadata["network"])
        x = torch.rand(1, 3, 52, 140, generator=torch.Generator().manual_seed(0))  # export example was 64x96
        session = ort.InferenceSession(str(preset.onnx_path), providers=["CPUExecutionProvider"])
        got = session.run(None, {"image": x.numpy()})[0]
        with torch.no_grad():
            expected = net(x).numpy()
        assert got.shape == expected.shape == (1, 3, 52, 140)
        assert np.abs(got - expected).max() < 1e-4


def test_it_gives_the_same_image_on_onnx_runtime_and_pytorch(make_engine, photo):
    by_onnx = make_engine(runtime="onnx").stylize(photo, preset="great_wave")
    by_torch = make_engine(runtime="torch").stylize(photo, preset="great_wave")
    difference = np.abs(np.asarray(by_onnx, dtype=int) - np.asarray(by_torch, dtype=int))
    assert difference.max() <= 1
    assert not np.array_equal(np.asarray(by_torch), np.asarray(photo))
