"""The shipped networks render what they rendered when the references were made (shipped_renders.py), within ONNX
Runtime's and PyTorch's float tolerance."""

import numpy as np
import pytest

from .shipped_renders import REFERENCES, RUNTIMES, keys, reference_name, render

TOLERANCE = 2  # of 255


@pytest.fixture(scope="module")
def references():
    with np.load(REFERENCES) as data:
        return dict(data)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("key", keys())
def test_it_renders_the_shipped_networks_as_before(references, runtime, key):
    name = reference_name(runtime, key)
    assert name in references, f"no reference for {name}: run python -m tests.stylecore.shipped_renders"
    diff = np.abs(render(runtime, key).astype(int) - references[name].astype(int)).max()
    assert diff <= TOLERANCE
