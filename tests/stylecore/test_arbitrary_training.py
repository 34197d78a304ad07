import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from stylecore.checkpoints import load_checkpoint
from stylecore.cli import main
from stylecore.errors import CheckpointError
from stylecore.export import release_arbitrary
from stylecore.networks.microast import PUBLISHED_FILES, load_published
from stylecore.sidecars import file_sha256, read_manifest, sidecar_path
from stylecore.training_arbitrary import (ArbitraryTrainConfig, pair_losses, split_paintings, split_photos,
                                          train_arbitrary)

from .synthetic import tiny_arbitrary_config


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("arbitrary-training")


def _config(root: Path, run: str, steps: int, **options) -> ArbitraryTrainConfig:
    return replace(tiny_arbitrary_config(root, steps, painting_seed=400, checkpoint_every=2, **options),
                   run_dir=str(root / run))


def _same(a, b) -> bool:
    """Nested checkpoint states (dicts, lists, tensors, numbers) equal, tensors bit for bit."""
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_a_resumed_run_reaches_the_state_of_an_uninterrupted_one(root):
    train_arbitrary(_config(root, "straight", 4), show_progress=False)
    train_arbitrary(_config(root, "resumed", 2), show_progress=False)
    train_arbitrary(_config(root, "resumed", 4), show_progress=False)
    straight, resumed = (load_checkpoint(root / run / "checkpoint.pt") for run in ("straight", "resumed"))
    assert resumed["step"] == 4
    for key in ("net", "average", "optimizer", "photo_rng", "painting_rng", "torch_rng", "started_from"):
        assert _same(straight[key], resumed[key]), key
    assert straight["history"] == resumed["history"]


def test_a_short_fine_tune_lowers_its_loss_on_the_photos_and_paintings_it_trains_on(root):
    from stylecore.backbones import load_backbone
    from stylecore.data import CropSampler

    config = _config(root, "lowers", 32)
    train_arbitrary(config, show_progress=False)
    trained = load_published(Path(config.init_from))
    trained.load_state_dict(load_checkpoint(Path(config.run_dir) / "checkpoint.pt")["net"])
    vgg = load_backbone(config.backbone)
    photos = CropSampler(split_photos(config)[0], config.crop_size, seed=7).batch(4)
    paintings = CropSampler(split_paintings(config)[0], config.crop_size, seed=8).batch(4)
    with torch.no_grad():
        before = pair_losses(load_published(Path(config.init_from)), vgg, photos, paintings, config)["total"]
        after = pair_losses(trained, vgg, photos, paintings, config)["total"]
    assert after < 0.95 * before


def test_it_starts_from_the_published_weights_and_keeps_their_moving_average(root):
    config = _config(root, "average", 2)
    train_arbitrary(config, show_progress=False)
    state = load_checkpoint(Path(config.run_dir) / "checkpoint.pt")
    start = load_published(Path(config.init_from)).state_dict()
    trained, average = state["net"], state["average"]
    for name, weight in start.items():
        # Two steps of the average from the start: a = w0 + (1 - d) (w1 - w0) + ... lies between the start and the
        # weights, much nearer the start (d = 0.99).
        moved = (trained[name] - weight).abs().sum()
        if moved > 0:
            assert (average[name] - weight).abs().sum() < 0.05 * moved
    assert any((trained[n] - w).abs().sum() > 0 for n, w in start.items())


def test_its_release_ships_the_average_with_credit_recipe_and_steps(root, tmp_path):
    config = _config(root, "release", 3)
    train_arbitrary(config, show_progress=False)
    state = load_checkpoint(Path(config.run_dir) / "checkpoint.pt")
    path = release_arbitrary(Path(config.run_dir), tmp_path / "weights")
    assert path == tmp_path / "weights" / "arbitrary" / "microast.pt"
    released = torch.load(path, weights_only=True)
    assert released.keys() == state["average"].keys()
    assert all(torch.equal(released[k], state["average"][k]) for k in released)
    assert any(not torch.equal(released[k], state["net"][k]) for k in released)
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["steps"] == 3 and meta["backbone"] == "vgg16-imagenet"
    assert meta["config"] == json.loads(json.dumps(config.to_dict()))
    assert meta["metrics"]["latest_losses"] == state["history"][-1]
    credit = meta["credit"]
    assert credit["network"] == "MicroAST" and "AAAI 2023" in credit["paper"]
    assert credit["authors"].startswith("Zhizhong Wang, Lei Zhao")
    assert (credit["repository"], credit["commit"]) == ("https://github.com/EndyWon/MicroAST", "5a6c9050d8c4")
    assert credit["licence"] == "MIT"
    assert credit["licence_text"] == (Path(config.init_from) / "LICENSE").read_text()
    assert credit["started_from_sha256"] == {
        file: file_sha256(Path(config.init_from) / file) for file in PUBLISHED_FILES.values()}
    assert read_manifest(path.parent)["microast.pt"]["sha256"] == file_sha256(path)


def test_its_release_and_export_commands_install_the_four_graphs_with_the_credit(root, tmp_path, capsys):
    config = _config(root, "commands", 2)
    train_arbitrary(config, show_progress=False)
    weights = tmp_path / "weights"
    assert main(["release-arbitrary", config.run_dir, str(weights)]) == 0
    assert main(["export", "--weights", str(weights)]) == 0
    printed = capsys.readouterr().out
    for graph in ("style", "encoder", "modulate", "decoder"):
        assert f"{graph}.onnx" in printed
        meta = json.loads(sidecar_path(weights / "arbitrary" / f"{graph}.onnx").read_text())
        assert meta["steps"] == 2 and meta["credit"]["repository"] == "https://github.com/EndyWon/MicroAST"
    assert set(read_manifest(weights / "arbitrary")) == {"microast.pt", "style.onnx", "encoder.onnx",
                                                         "modulate.onnx", "decoder.onnx"}


def test_its_release_of_the_published_files_as_they_are_says_so(root, tmp_path):
    config = _config(root, "published", 1)
    path = release_arbitrary(Path(config.init_from), tmp_path / "weights")
    published = load_published(Path(config.init_from)).state_dict()
    released = torch.load(path, weights_only=True)
    assert all(torch.equal(released[k], published[k]) for k in published)
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["steps"] == 0 and meta["config"] is None and meta["backbone"] is None
    assert "as published" in meta["network"]["weights"]
    assert meta["credit"]["started_from_sha256"] == {
        file: file_sha256(Path(config.init_from) / file) for file in PUBLISHED_FILES.values()}


def test_it_refuses_to_release_a_folder_with_neither_a_run_nor_the_published_files(tmp_path):
    with pytest.raises(CheckpointError, match="neither"):
        release_arbitrary(tmp_path, tmp_path / "weights")


def test_it_refuses_to_resume_with_another_config_or_other_starting_files(root):
    config = _config(root, "refuse", 2)
    train_arbitrary(config, show_progress=False)
    with pytest.raises(CheckpointError, match="different config"):
        train_arbitrary(replace(config, steps=3, lr=1e-3), show_progress=False)
    decoder = Path(config.init_from) / "decoder_iter_160000.pth.tar"
    original = decoder.read_bytes()
    try:
        state = torch.load(decoder, weights_only=True)
        state["dec3.10.conv_layer.bias"] += 1
        torch.save(state, decoder)
        with pytest.raises(CheckpointError, match="no longer holds the files"):
            train_arbitrary(replace(config, steps=3), show_progress=False)
    finally:
        decoder.write_bytes(original)


def test_it_holds_out_photos_and_paintings_by_name_across_all_painting_folders(root):
    config = _config(root, "split", 1)
    train_paintings, held_paintings = split_paintings(config)
    assert len(held_paintings) == 5 and len(train_paintings) == 2
    assert {p.parent.name for p in train_paintings + held_paintings} == {"paintings", "more_paintings"}
    train_photos, held_photos = split_photos(config)
    assert len(held_photos) == 1 and not set(train_photos) & set(held_photos)
    train_arbitrary(config, show_progress=False)
    recorded = json.loads((Path(config.run_dir) / "validation.json").read_text())
    assert recorded["paintings"] == [p.name for p in held_paintings]


def test_its_defaults_are_the_shipped_recipe():
    config = ArbitraryTrainConfig(content_dir="c", style_dirs=("s",), run_dir="r", init_from="m")
    assert (config.backbone, config.content_layers, config.content_weight) == ("vgg16-imagenet", ("relu4_1",), 1.0)
    assert config.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1") and config.style_weight == 1.0
    assert config.gram_layers == ("relu1_2", "relu2_2", "relu3_3") and config.gram_weight == 2.0
    assert (config.crop_size, config.batch_size, config.lr, config.ema_decay) == (192, 4, 1e-4, 0.99)
    assert (config.n_val_photos, config.n_val_styles, config.checkpoint_every) == (60, 64, 25)
