import json

import pytest
import torch

from stylecore.errors import CheckpointError, InvalidOptionError
from stylecore.networks.arbitrary import ArbitraryConfig, ArbitraryStyleNet, separable_from_dense
from stylecore.training_arbitrary import ArbitraryTrainConfig, pair_losses, train_arbitrary

from .synthetic import REPO, draw_painting, draw_photo


def test_it_factorises_a_rank_one_kernel_exactly():
    conv = torch.nn.Conv2d(4, 6, 3, padding=1)
    gen = torch.Generator().manual_seed(0)
    spatial = torch.randn(4, 3, 3, generator=gen)            # one 3x3 kernel per input channel...
    mixing = torch.randn(6, 4, generator=gen)                # ...times a per-output weight: rank 1 per input channel
    with torch.no_grad():
        conv.weight.copy_(mixing[:, :, None, None] * spatial[None])
    x = torch.randn(1, 4, 10, 12, generator=gen)
    with torch.no_grad():
        torch.testing.assert_close(separable_from_dense(conv)(x), conv(x), atol=1e-4, rtol=1e-4)


def test_it_factorises_a_rank_two_kernel_exactly_at_rank_two_and_not_at_rank_one():
    conv = torch.nn.Conv2d(4, 6, 3, padding=1)
    gen = torch.Generator().manual_seed(3)
    spatial = torch.randn(2, 4, 3, 3, generator=gen)         # two 3x3 kernels per input channel...
    mixing = torch.randn(2, 6, 4, generator=gen)             # ...each with its own per-output weights
    with torch.no_grad():
        conv.weight.copy_((mixing[:, :, :, None, None] * spatial[:, None]).sum(0))
    x = torch.randn(1, 4, 10, 12, generator=gen)
    with torch.no_grad():
        torch.testing.assert_close(separable_from_dense(conv, rank=2)(x), conv(x), atol=1e-4, rtol=1e-4)
        assert (separable_from_dense(conv, rank=1)(x) - conv(x)).abs().max() > 1e-2


def test_it_approximates_a_general_kernel_better_than_chance():
    conv = torch.nn.Conv2d(8, 8, 3, padding=1)
    x = torch.randn(1, 8, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        exact, approx = conv(x), separable_from_dense(conv)(x)
        fresh = torch.nn.Conv2d(8, 8, 3, padding=1)(x)
    assert (approx - exact).pow(2).mean() < 0.5 * (fresh - exact).pow(2).mean()


@pytest.fixture
def data(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "paintings").mkdir()
    for index in range(3):
        draw_photo((64, 48), seed=40 + index).save(tmp_path / "photos" / f"photo_{index}.png")
    for index in range(7):
        draw_painting(64, seed=60 + index).save(tmp_path / "paintings" / f"painting_{index}.png")
    return tmp_path


def _net(**options) -> ArbitraryConfig:
    """A tiny network without the options tests add on purpose (content skip, bilinear upsampling)."""
    return ArbitraryConfig(**{"width": 8, "content_skip": False, "upsampling": "nearest", **options})


def _config(data, name: str, **options) -> ArbitraryTrainConfig:
    """A tiny run with every optional term off unless a test sets it."""
    return ArbitraryTrainConfig(**{
        "content_dir": str(data / "photos"), "style_dir": str(data / "paintings"), "run_dir": str(data / name),
        "crop_size": 32, "n_val_photos": 1, "n_val_styles": 5, "preview_every": 1000, "checkpoint_every": 1000,
        "lr": 1e-3, "content_weight": 1.0, "style_weight": 3.0, "gram_weight": 0.0, "hue_jitter": 0.0,
        "ema_decay": 0.0, "structure_weight": 0.0, "structure_layers": ("relu2_2",), "skip_lr": None,
        "net": _net(), **options})


def test_it_distils_the_thin_encoder_towards_vgg(data):
    checkpoint = train_arbitrary(_config(data, "distil", steps=12, distill_steps=12, lr=3e-3), show_progress=False)
    history = json.loads((checkpoint.parent / "history.json").read_text())
    assert all("distill_relu3_1" in h and "style" not in h for h in history)
    first, last = sum(h["total"] for h in history[:3]) / 3, sum(h["total"] for h in history[-3:]) / 3
    assert last < 0.8 * first


def test_it_trains_the_decoder_only_after_distilling(data):
    checkpoint = train_arbitrary(_config(data, "phases", steps=4, distill_steps=2, gram_weight=1.0),
                                 show_progress=False)
    history = json.loads((checkpoint.parent / "history.json").read_text())
    assert ["distill_relu1_2" in h for h in history] == [True, True, False, False]
    assert all(h["gram"] > 0 and h["style"] > 0 for h in history[2:])


def test_it_measures_the_output_against_the_photos_features_when_asked(data):
    features = {"relu2_2": torch.rand(2, 4, 6, 6), "relu3_1": torch.rand(2, 4, 3, 3)}
    config = _config(data, "unused", structure_weight=1.0, style_layers=("relu2_2",))
    photo = {"relu2_2": features["relu2_2"].clone()}
    photo["relu2_2"][1] *= 2  # the second output has half the photo's features: relative error 1/4
    losses = pair_losses(features, features, features, photo, config)
    torch.testing.assert_close(losses["structure"], torch.tensor([0.0, 0.25]))

    history = json.loads((train_arbitrary(_config(data, "structure", steps=3, distill_steps=1, structure_weight=1.0),
                                          show_progress=False).parent / "history.json").read_text())
    assert all(h["structure"] > 0 for h in history[1:])
    plain = json.loads((train_arbitrary(_config(data, "no-structure", steps=2, distill_steps=1),
                                        show_progress=False).parent / "history.json").read_text())
    assert "structure" not in plain[-1]
    # It is in the loss, not only in the record: the same step (same seed, same crops) trains the decoder differently.
    stepped = [torch.load(train_arbitrary(_config(data, f"step-{weight}", steps=2, distill_steps=1,
                                                  structure_weight=weight), show_progress=False))["net"]
               for weight in (0.0, 10.0)]
    assert any(not torch.equal(stepped[0][k], stepped[1][k]) for k in stepped[0] if k.startswith("decoder."))


def _started_from(earlier: ArbitraryStyleNet, config: ArbitraryConfig, data, tmp_path) -> ArbitraryStyleNet:
    """The network a run of ``config`` starts from ``earlier``'s weights with (one distilling step, which leaves the
    decoder alone)."""
    torch.save(earlier.state_dict(), tmp_path / "earlier.pt")
    checkpoint = train_arbitrary(_config(data, "started", steps=1, distill_steps=1, net=config,
                                         init_from=str(tmp_path / "earlier.pt")), show_progress=False)
    net = ArbitraryStyleNet(config).eval()
    net.load_state_dict(torch.load(checkpoint)["net"])
    return net


def test_it_refuses_to_thin_a_conv_the_encoder_does_not_have():
    with pytest.raises(ValueError, match="conv4_1"):
        ArbitraryStyleNet(ArbitraryConfig(thin_convs={"conv4_1": 1}))


def test_it_adds_the_coarse_path_to_a_release_without_one_and_renders_the_same(data, tmp_path):
    # v6 had no coarse path: a run that starts from it gets the path at zero, so it starts from v6's very output.
    earlier = ArbitraryStyleNet(_net()).eval()
    torch.save({k: v for k, v in earlier.state_dict().items() if not k.startswith("decoder.coarse.")},
               tmp_path / "earlier.pt")
    config = _config(data, "coarse", steps=1, distill_steps=1, init_from=str(tmp_path / "earlier.pt"))
    checkpoint = train_arbitrary(config, show_progress=False)
    started = ArbitraryStyleNet(_net()).eval()
    started.load_state_dict(torch.load(checkpoint)["net"])
    assert not any(torch.count_nonzero(p) for p in started.decoder.coarse[7][1].parameters())
    features, matrix, bias = torch.rand(1, 256, 8, 12), torch.rand(1, 256, 256) / 16, torch.rand(1, 256)
    with torch.no_grad():
        torch.testing.assert_close(started(features, matrix, bias), earlier(features, matrix, bias))


def test_it_refuses_a_crop_size_the_coarse_path_cannot_halve(data):
    with pytest.raises(InvalidOptionError, match="multiple of 8"):
        train_arbitrary(_config(data, "odd", steps=1, crop_size=36), show_progress=False)


def test_it_refuses_to_start_from_a_network_of_another_shape(data, tmp_path):
    torch.save(ArbitraryStyleNet(_net(width=16)).state_dict(), tmp_path / "wider.pt")
    with pytest.raises(CheckpointError, match="does not fit"):
        train_arbitrary(_config(data, "wrong", steps=1, distill_steps=1, init_from=str(tmp_path / "wider.pt")),
                        show_progress=False)


def test_it_starts_everything_from_a_release_of_the_same_network(data, tmp_path):
    # A release of this very network brings its distilled encoder along, so a new run needs no distilling.
    earlier = ArbitraryStyleNet(_net())
    with torch.no_grad():
        for parameter in earlier.encoder.parameters():
            parameter.add_(0.01)
    torch.save(earlier.state_dict(), tmp_path / "same.pt")
    checkpoint = train_arbitrary(_config(data, "same", steps=1, distill_steps=0, init_from=str(tmp_path / "same.pt")),
                                 show_progress=False)
    trained = torch.load(checkpoint)["net"]
    for key, value in earlier.state_dict().items():
        if key.startswith("encoder."):
            assert torch.equal(trained[key], value)


def _decoder(state: dict) -> dict:
    return {k.removeprefix("decoder."): v for k, v in state.items() if k.startswith("decoder.")}


def test_it_keeps_a_moving_average_of_the_decoder_across_resumes_and_releases_it(data, tmp_path):
    from stylecore.export import release_arbitrary

    options = dict(ema_decay=0.75, lr=1e-2, checkpoint_every=1)
    first = torch.load(train_arbitrary(_config(data, "ema", steps=1, **options), show_progress=False))
    second = torch.load(train_arbitrary(_config(data, "ema", steps=2, **options), show_progress=False))  # resumed
    trained = _decoder(second["net"])
    assert any(not torch.equal(second["decoder_average"][k], trained[k]) for k in trained)
    for key, weight in trained.items():  # average_2 = 0.75 average_1 + 0.25 weights_2
        expected = 0.75 * first["decoder_average"][key] + 0.25 * weight
        torch.testing.assert_close(second["decoder_average"][key], expected)

    released = release_arbitrary(data / "ema", tmp_path / "weights", n_pairs=5)
    for key, value in _decoder(torch.load(released)).items():
        assert torch.equal(value, second["decoder_average"][key])


def test_it_keeps_no_average_unless_asked(data):
    assert "decoder_average" not in torch.load(train_arbitrary(_config(data, "plain", steps=1), show_progress=False))


def test_it_adds_a_content_skip_to_a_release_without_one_which_training_then_opens(data, tmp_path):
    # The skip starts at zero: a run that adds it to an earlier release starts from that release's very output...
    earlier = ArbitraryStyleNet(_net()).eval()
    torch.save(earlier.state_dict(), tmp_path / "earlier.pt")
    skip = _net(content_skip=True)
    started = train_arbitrary(_config(data, "skip0", steps=1, distill_steps=1, net=skip,
                                      init_from=str(tmp_path / "earlier.pt")), show_progress=False)
    net = ArbitraryStyleNet(skip).eval()
    net.load_state_dict(torch.load(started)["net"])
    photo, other = 20 * torch.rand(2, 1, 256, 8, 12)  # relu3_1 scale
    matrix, bias = torch.rand(1, 256, 256) / 16, torch.rand(1, 256)
    with torch.no_grad():
        torch.testing.assert_close(net(photo, matrix, bias), earlier(photo, matrix, bias))
    # ...and decoder steps open it, at its own rate: then the same t decodes differently for different photos.
    trained = train_arbitrary(_config(data, "skip3", steps=3, lr=1e-5, skip_lr=1e-2, net=skip, structure_weight=1.0,
                                      init_from=str(tmp_path / "earlier.pt")), show_progress=False)
    net.load_state_dict(torch.load(trained)["net"])
    assert net.decoder.skip.weight.abs().max() > 5e-3  # Adam moves a weight by about its lr a step
    assert (net.decoder.layers[0][1].weight - earlier.decoder.layers[0][1].weight).abs().max() < 5e-5
    flat = torch.zeros(1, 256, 256)  # t = the bias at every position, whatever the photo
    with torch.no_grad():
        assert (net(photo, flat, 20 * bias) - net(other, flat, 20 * bias)).abs().max() > 1e-4


def test_a_bilinear_decoder_starts_from_an_earlier_nearest_release_with_all_of_its_weights(data, tmp_path):
    earlier = ArbitraryStyleNet(_net()).eval()
    net = _started_from(earlier, _net(upsampling="bilinear"), data, tmp_path)
    mine, theirs = net.decoder.state_dict(), earlier.decoder.state_dict()
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    # Another function all the same: the upsampled features are interpolated, not copied in 2 x 2 blocks.
    features = torch.rand(1, 256, 6, 8)
    matrix, bias = torch.eye(256)[None], torch.zeros(1, 256)
    with torch.no_grad():
        assert (net(features, matrix, bias) - earlier(features, matrix, bias)).abs().max() > 1e-4


def test_it_refuses_an_unknown_upsampling():
    with pytest.raises(InvalidOptionError, match="upsampling must be one of nearest, bilinear, not 'cubic'"):
        ArbitraryConfig(upsampling="cubic")




def test_it_reads_retired_options_at_their_off_value_and_refuses_a_network_that_needs_one():
    assert ArbitraryConfig.from_dict({"width": 8, "balance": False, "fold_transform": False}) == _net(
        content_skip=True, upsampling="bilinear")
    with pytest.raises(CheckpointError, match="balance"):
        ArbitraryConfig.from_dict({"width": 8, "balance": True})
    with pytest.raises(CheckpointError, match="teacher"):
        ArbitraryTrainConfig.from_dict({"content_dir": "a", "style_dir": "b", "run_dir": "c", "teacher": "weights"})


def test_its_defaults_are_the_shipped_networks_recipe():
    shipped = json.loads((REPO / "weights" / "arbitrary" / "arbitrary.pt.json").read_text())
    recorded = ArbitraryTrainConfig.from_dict({**shipped["config"], "net": shipped["network"]})
    places = {k: shipped["config"][k] for k in ("content_dir", "style_dir", "run_dir", "init_from")}
    assert recorded == ArbitraryTrainConfig(**places)
