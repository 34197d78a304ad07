import json

import pytest
import torch

from stylecore.errors import CheckpointError
from stylecore.training import load_checkpoint, train

from .synthetic import tiny_train_config


def test_it_lowers_the_loss_in_a_smoke_run(tiny_run):
    history = json.loads((tiny_run / "history.json").read_text())
    assert [h["step"] for h in history] == list(range(1, 17))
    # Each step sees different crops, so single steps are noisy; compare the first and last four.
    first, last = (sum(h["total"] for h in part) for part in (history[:4], history[-4:]))
    assert last < 0.9 * first
    assert (tiny_run / "loss.png").stat().st_size > 0
    assert (tiny_run / "preview_00016.jpg").stat().st_size > 0


def test_it_resumes_to_the_same_weights_as_an_uninterrupted_run(tmp_path):
    straight = train(tiny_train_config(tmp_path, tmp_path / "straight", steps=4), show_progress=False)
    train(tiny_train_config(tmp_path, tmp_path / "resumed", steps=2), show_progress=False)
    resumed = train(tiny_train_config(tmp_path, tmp_path / "resumed", steps=4), show_progress=False)
    a, b = load_checkpoint(straight), load_checkpoint(resumed)
    assert b["step"] == 4
    assert [h["total"] for h in a["history"]] == [h["total"] for h in b["history"]]
    for key, value in a["net"].items():
        assert torch.equal(value, b["net"][key]), key


def test_it_refuses_to_resume_with_a_changed_config(tmp_path):
    config = tiny_train_config(tmp_path, tmp_path / "run", steps=1)
    train(config, show_progress=False)
    changed = tiny_train_config(tmp_path, tmp_path / "run", steps=2)
    changed = type(changed)(**{**changed.__dict__, "lr": 5e-3})
    with pytest.raises(CheckpointError, match="different config"):
        train(changed, show_progress=False)
