import json

import pytest
import torch

from stylecore.backbones import load_backbone
from stylecore.errors import CheckpointError, InvalidOptionError
from stylecore.imageio import open_image, to_tensor
from stylecore.networks.arbitrary import ArbitraryConfig, ArbitraryStyleNet, apply_transform, separable_from_dense
from stylecore.sidecars import write_sidecar
from stylecore.losses import relative_mse
from stylecore.training_arbitrary import (ArbitraryTrainConfig, add_margin, balance_weights, cut_margin,
                                         feature_transforms, pair_losses, sorted_distance, stylize_tensors,
                                         train_arbitrary)

from .synthetic import draw_painting, draw_photo


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


def _config(data, name: str, **options) -> ArbitraryTrainConfig:
    return ArbitraryTrainConfig(**{
        "content_dir": str(data / "photos"), "style_dir": str(data / "paintings"), "run_dir": str(data / name),
        "crop_size": 32, "n_val_photos": 1, "n_val_styles": 5, "preview_every": 1000, "checkpoint_every": 1000,
        "net": ArbitraryConfig(width=8), **options})


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
    losses = pair_losses(features, features, features, config, photo)
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


def test_the_histogram_distance_compares_distributions_whatever_the_places():
    gen = torch.Generator().manual_seed(0)
    features = torch.rand(2, 3, 8, 8, generator=gen)
    shuffled = features.flatten(2)[:, :, torch.randperm(64, generator=gen)].view_as(features)
    torch.testing.assert_close(sorted_distance(shuffled, features), torch.zeros(2))
    # Channel by channel: the error between the sorted values, relative to the target's, as defined.
    wider = features * torch.tensor([1.0, 2.0])[:, None, None, None]
    torch.testing.assert_close(sorted_distance(features, wider), torch.tensor([0.0, 0.25]))
    # A target of another size is taken at evenly spaced ranks: four copies of each value are the same distribution.
    tiled = features.repeat(1, 1, 2, 2)
    torch.testing.assert_close(sorted_distance(features, tiled), torch.zeros(2), atol=0.02, rtol=0)
    # Above ``positions``, a random subset of the positions stands for all of them.
    target = torch.rand(2, 3, 32, 32, generator=gen)
    torch.manual_seed(0)
    assert sorted_distance(target * 3, target, positions=128).mean() > 1.0
    assert sorted_distance(target[:, :, torch.randperm(32)], target, positions=128).max() < 0.02


def test_the_histogram_distance_pulls_the_values_towards_the_targets_distribution():
    gen = torch.Generator().manual_seed(1)
    values = torch.rand(1, 2, 6, 6, generator=gen).requires_grad_()
    target = torch.randn(1, 2, 6, 6, generator=gen) * 3 + 1
    before = sorted_distance(values, target)
    before.sum().backward()
    with torch.no_grad():
        assert sorted_distance(values - 0.1 * values.grad / values.grad.abs().max(), target) < before


def test_the_histogram_term_trains_the_decoder_only_when_asked(data):
    runs = {weight: train_arbitrary(_config(data, f"histogram-{weight}", steps=2, distill_steps=1,
                                            histogram_weight=weight), show_progress=False) for weight in (0.0, 10.0)}
    assert "histogram" not in json.loads((runs[0.0].parent / "history.json").read_text())[-1]
    assert json.loads((runs[10.0].parent / "history.json").read_text())[-1]["histogram"] > 0
    # In the loss, not only in the record: the same crops train the decoder differently.
    nets = [torch.load(path)["net"] for path in runs.values()]
    assert any(not torch.equal(nets[0][k], nets[1][k]) for k in nets[0] if k.startswith("decoder."))


def test_it_resumes_a_checkpoint_made_before_an_option_existed_with_its_default(data):
    checkpoint = train_arbitrary(_config(data, "older", steps=1, checkpoint_every=1), show_progress=False)
    state = torch.load(checkpoint, weights_only=False)
    for name in ("structure_weight", "structure_layers"):  # added in v8
        del state["config"][name]
    torch.save(state, checkpoint)
    with pytest.raises(CheckpointError, match="different config"):
        train_arbitrary(_config(data, "older", steps=2, checkpoint_every=1, structure_weight=1.0), show_progress=False)
    assert torch.load(train_arbitrary(_config(data, "older", steps=2, checkpoint_every=1), show_progress=False),
                      weights_only=False)["step"] == 2


def test_it_starts_the_decoder_from_an_earlier_release_with_a_dense_first_layer(data, tmp_path):
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8))
    state = earlier.state_dict()
    dense = torch.nn.Conv2d(256, 16, 3, padding=1)
    state = {k: v for k, v in state.items() if not k.startswith("decoder.layers.0.")}
    state.update({"decoder.layers.0.weight": dense.weight.detach(), "decoder.layers.0.bias": dense.bias.detach()})
    torch.save(state, tmp_path / "earlier.pt")

    checkpoint = train_arbitrary(_config(data, "warm", steps=1, distill_steps=1, init_from=str(tmp_path / "earlier.pt")),
                                 show_progress=False)
    decoder = {k.removeprefix("decoder."): v for k, v in torch.load(checkpoint)["net"].items()
               if k.startswith("decoder.")}
    # Distilling leaves the decoder alone: every later layer is the earlier release's, the first is its factorisation.
    for key, value in state.items():
        if key.startswith("decoder.") and not key.startswith("decoder.layers.0."):
            assert torch.equal(decoder[key.removeprefix("decoder.")], value)
    expected = separable_from_dense(dense).state_dict()
    for key, value in expected.items():
        torch.testing.assert_close(decoder[f"layers.0.{key}"], value)


def test_it_thins_more_encoder_convs_starting_from_an_earlier_releases_encoder(data, tmp_path):
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8))
    with torch.no_grad():  # an encoder distillation moved away from VGG
        for p in earlier.encoder.parameters():
            p.add_(0.01 * torch.randn_like(p))
    torch.save(earlier.state_dict(), tmp_path / "earlier.pt")
    thin = {"conv1_2": 1, "conv2_1": 2, "conv2_2": 1, "conv3_1": 2}
    config = _config(data, "thinner", steps=1, init_from=str(tmp_path / "earlier.pt"),
                     net=ArbitraryConfig(width=8, thin_convs=thin))
    started = ArbitraryStyleNet(config.net)
    started.load_state_dict(torch.load(train_arbitrary(config, show_progress=False))["net"])
    before, after = dict(zip(earlier.encoder.vgg.names, earlier.encoder.vgg.layers)), dict(
        zip(started.encoder.vgg.names, started.encoder.vgg.layers))
    assert isinstance(after["conv3_1"], torch.nn.Sequential) and after["conv3_1"][0].out_channels == 2 * 128
    x = torch.randn(1, 128, 6, 6)
    with torch.no_grad():
        # The newly thin conv is the earlier release's (not VGG's) factorised; the others are copied as they were.
        torch.testing.assert_close(after["conv3_1"](x), separable_from_dense(before["conv3_1"], rank=2)(x))
        for name in ("conv1_1", "conv1_2", "conv2_2"):
            for mine, theirs in zip(after[name].parameters(), before[name].parameters()):
                assert torch.equal(mine, theirs)


@pytest.mark.parametrize("content_skip", [False, True])
def test_the_folded_first_layer_decodes_what_applying_the_map_first_would(content_skip):
    net = ArbitraryStyleNet(ArbitraryConfig(width=8, content_skip=content_skip, fold_transform=True)).eval()
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in net.decoder.parameters():  # away from the zero and identity starts
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    features = 5 * torch.rand(2, 256, 8, 12, generator=gen)
    matrix, bias = torch.randn(2, 256, 256, generator=gen) / 16, torch.randn(2, 256, generator=gen)
    t = apply_transform(features, matrix, bias)
    pointwise, depthwise = net.decoder.layers[0]
    unfolded = depthwise(pointwise(t) + (net.decoder.skip(features) if content_skip else 0))
    with torch.no_grad():
        torch.testing.assert_close(net.decoder._folded_first(features, matrix, bias), unfolded, atol=1e-4, rtol=1e-4)


def _flat(channels: int, h: int, w: int) -> torch.Tensor:
    """Features flat over every 3x3 window: one value per channel."""
    return torch.rand(1, channels, 1, 1).expand(1, channels, h, w).contiguous()


def _started_from(earlier: ArbitraryStyleNet, config: ArbitraryConfig, data, tmp_path) -> ArbitraryStyleNet:
    """The network a run of ``config`` starts from ``earlier``'s weights with (one distilling step, which leaves the
    decoder alone)."""
    torch.save(earlier.state_dict(), tmp_path / "earlier.pt")
    checkpoint = train_arbitrary(_config(data, "started", steps=1, distill_steps=1, net=config,
                                         init_from=str(tmp_path / "earlier.pt")), show_progress=False)
    net = ArbitraryStyleNet(config).eval()
    net.load_state_dict(torch.load(checkpoint)["net"])
    return net


def test_it_folds_an_earlier_releases_first_layer_keeping_its_response_to_flat_features(data, tmp_path):
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8, content_skip=True)).eval()
    net = _started_from(earlier, ArbitraryConfig(width=8, content_skip=True, fold_transform=True), data, tmp_path)
    # On flat features each old depthwise kernel acts as its sum.
    features = 5 * _flat(256, 8, 12)
    matrix, bias = torch.rand(1, 256, 256) / 16, torch.rand(1, 256)
    inside = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # away from the zero padding
    with torch.no_grad():
        mine = net.decoder._folded_first(features, matrix, bias)
        theirs = earlier.decoder._first(features, matrix, bias)
        torch.testing.assert_close(mine[inside], theirs[inside], atol=1e-4, rtol=1e-4)
        assert not torch.allclose(net.decoder.layers[0][0].weight, earlier.decoder.layers[0][1].weight)


def test_it_refuses_to_thin_a_conv_the_encoder_does_not_have():
    with pytest.raises(ValueError, match="conv4_1"):
        ArbitraryStyleNet(ArbitraryConfig(thin_convs={"conv4_1": 1}))


def test_it_adds_the_coarse_path_to_a_release_without_one_and_renders_the_same(data, tmp_path):
    # v6 had no coarse path: a run that starts from it gets the path at zero, so it starts from v6's very output.
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8)).eval()
    torch.save({k: v for k, v in earlier.state_dict().items() if not k.startswith("decoder.coarse.")},
               tmp_path / "earlier.pt")
    config = _config(data, "coarse", steps=1, distill_steps=1, init_from=str(tmp_path / "earlier.pt"))
    checkpoint = train_arbitrary(config, show_progress=False)
    started = ArbitraryStyleNet(ArbitraryConfig(width=8)).eval()
    started.load_state_dict(torch.load(checkpoint)["net"])
    assert not any(torch.count_nonzero(p) for p in started.decoder.coarse[7][1].parameters())
    features, matrix, bias = torch.rand(1, 256, 8, 12), torch.rand(1, 256, 256) / 16, torch.rand(1, 256)
    with torch.no_grad():
        torch.testing.assert_close(started(features, matrix, bias), earlier(features, matrix, bias))


def test_it_refuses_a_crop_size_the_coarse_path_cannot_halve(data):
    with pytest.raises(InvalidOptionError, match="multiple of 8"):
        train_arbitrary(_config(data, "odd", steps=1, crop_size=36), show_progress=False)


def test_it_refuses_to_start_from_a_network_of_another_shape(data, tmp_path):
    torch.save(ArbitraryStyleNet(ArbitraryConfig(width=16)).state_dict(), tmp_path / "wider.pt")
    with pytest.raises(CheckpointError, match="does not fit"):
        train_arbitrary(_config(data, "wrong", steps=1, distill_steps=1, init_from=str(tmp_path / "wider.pt")),
                        show_progress=False)


def test_it_starts_everything_from_a_release_of_the_same_network(data, tmp_path):
    # A release of this very network brings its distilled encoder along, so a new run needs no distilling.
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8))
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
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8)).eval()
    torch.save(earlier.state_dict(), tmp_path / "earlier.pt")
    skip = ArbitraryConfig(width=8, content_skip=True)
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


def test_a_balance_starts_from_an_earlier_release_at_every_balance_and_training_makes_it_matter(data, tmp_path):
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8)).eval()
    balanced = ArbitraryConfig(width=8, balance=True)
    net = _started_from(earlier, balanced, data, tmp_path)  # also saves earlier.pt
    photo = 20 * torch.rand(1, 256, 8, 12)  # relu3_1 scale
    matrix, bias = torch.rand(1, 256, 256) / 16, torch.rand(1, 256)
    with torch.no_grad():
        for balance in (-1.0, 0.0, 1.0):
            torch.testing.assert_close(net(photo, matrix, bias, torch.tensor([balance])), earlier(photo, matrix, bias))
    # Decoder steps open the modulations at their own rate; then the balance changes what the same features decode to.
    trained = train_arbitrary(_config(data, "balance3", steps=3, lr=1e-5, balance_lr=1e-2, net=balanced,
                                      init_from=str(tmp_path / "earlier.pt")), show_progress=False)
    net.load_state_dict(torch.load(trained)["net"])
    assert max(p.abs().max() for p in net.decoder.modulation.parameters()) > 5e-3
    assert (net.decoder.layers[0][1].weight - earlier.decoder.layers[0][1].weight).abs().max() < 5e-5
    with torch.no_grad():
        assert (net(photo, matrix, bias, torch.tensor([-1.0])) - net(photo, matrix, bias, torch.tensor([1.0]))
                ).abs().max() > 1e-3


def test_the_balance_weighs_style_against_content_by_the_range_to_its_power():
    balances = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])
    on_content, on_style = balance_weights(balances, 8.0)
    torch.testing.assert_close(on_style / on_content, 8.0 ** balances)
    torch.testing.assert_close(on_style * on_content, torch.ones(5))  # the loss keeps its scale


def test_a_bilinear_decoder_starts_from_an_earlier_nearest_release_with_all_of_its_weights(data, tmp_path):
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8)).eval()
    net = _started_from(earlier, ArbitraryConfig(width=8, upsampling="bilinear"), data, tmp_path)
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


def test_the_pointwise_first_stages_start_from_an_earlier_releases_with_its_response_to_flat_features(data, tmp_path):
    earlier = ArbitraryStyleNet(ArbitraryConfig(width=8)).eval()
    net = _started_from(earlier, ArbitraryConfig(width=8, pointwise_first=True), data, tmp_path)
    inside = (slice(None), slice(None), slice(2, -2), slice(2, -2))  # away from the zero padding
    with torch.no_grad():
        for index, channels in zip(net.decoder.UPSAMPLING, (16, 8)):
            x = _flat(channels, 6, 8)
            mine, theirs = net.decoder.layers[index:index + 2](x), earlier.decoder.layers[index:index + 2](x)
            assert mine.shape == theirs.shape == (1, channels // 2, 12, 16)
            torch.testing.assert_close(mine[inside], theirs[inside], atol=1e-5, rtol=1e-5)
        # The rest of the decoder is copied as it was.
        for mine, theirs in zip(net.decoder.residual.parameters(), earlier.decoder.residual.parameters()):
            assert torch.equal(mine, theirs)
        # Not the same function on features with detail: the depthwise kernels act after the channel mix.
        x = torch.rand(1, 16, 6, 8)
        layers = net.decoder.layers[4:6]
        with torch.no_grad():
            layers[1][1].weight.add_(0.1)
        assert not torch.allclose(layers(x), earlier.decoder.layers[4:6](x), atol=1e-3)


def _teacher(folder, config: ArbitraryConfig, seed: int = 7, shuffled: bool = False):
    """A teacher with a red cast; ``shuffled``: with VGG16's encoder, its relu3_1 channels in another order, and a
    decoder whose output follows its features 20x more (a plain random teacher paints almost one flat colour)."""
    torch.manual_seed(seed)
    teacher = ArbitraryStyleNet(config)
    if shuffled:
        teacher.load_encoder(load_backbone("vgg16-hed"))
    with torch.no_grad():
        for p in teacher.decoder.parameters():  # away from the zero and identity starts
            p.add_(0.05 * torch.randn_like(p))
        teacher.decoder.layers[-1].bias.copy_(torch.tensor([1.0, -1.0, -1.0]))  # a red cast no photo has
        if shuffled:
            teacher.decoder.layers[-1].weight.mul_(20.0)
            conv, order = teacher.encoder.vgg.layers[-1], torch.randperm(256)
            conv.weight.copy_(conv.weight[order])
            conv.bias.copy_(conv.bias[order])
    folder.mkdir()
    torch.save(teacher.state_dict(), folder / "arbitrary.pt")
    write_sidecar(folder / "arbitrary.pt", {"network": config.to_dict()})
    return teacher.eval()


def _crops(data) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(to_tensor(open_image(p))[..., :32, :32] for p in (data / "photos/photo_0.png",
                                                                   data / "paintings/painting_0.png"))


def test_a_decoder_distilled_from_a_teacher_comes_closer_to_its_output(data, tmp_path):
    teacher = _teacher(tmp_path / "teacher", ArbitraryConfig(width=8, content_skip=True))
    student = ArbitraryConfig(width=8, content_skip=True, fold_transform=True, pointwise_first=True)
    # From a fresh decoder: the teacher's own layers, converted, would start it within 1e-5 of the teacher on these
    # flat synthetic images.
    trained = train_arbitrary(_config(data, "student", steps=30, net=student, teacher=str(tmp_path / "teacher"),
                                      lr=2e-2, reconstruct_share=0.0), show_progress=False)
    history = json.loads((trained.parent / "history.json").read_text())
    assert all({"pixel", "features"} <= set(h) and "style" not in h for h in history)

    photo, painting = _crops(data)
    started = ArbitraryStyleNet(student)  # a fresh decoder, as the run's was
    started.encoder.load_state_dict(teacher.encoder.state_dict())
    distilled = ArbitraryStyleNet(student)
    distilled.load_state_dict(torch.load(trained)["net"])
    errors = []
    for net in (started.eval(), distilled.eval()):
        for mine, theirs in zip(net.encoder.parameters(), teacher.encoder.parameters()):
            assert torch.equal(mine, theirs)  # the teacher's encoder, frozen
        errors.append((stylize_tensors(net, photo, painting) - stylize_tensors(teacher, photo, painting)
                       ).abs().mean().item())
    assert errors[1] < 0.7 * errors[0]


THINNER = {"conv1_2": 1, "conv2_1": 1, "conv2_2": 1, "conv3_1": 1}


def test_it_refuses_to_distil_an_encoder_it_takes_from_the_teacher(data, tmp_path):
    _teacher(tmp_path / "teacher", ArbitraryConfig(width=8))
    with pytest.raises(InvalidOptionError, match="nothing to distil"):
        train_arbitrary(_config(data, "both", steps=1, distill_steps=1, teacher=str(tmp_path / "teacher")),
                        show_progress=False)


def test_a_thinner_student_distils_its_encoder_from_the_teachers_not_from_vgg(data, tmp_path):
    teacher = _teacher(tmp_path / "teacher", ArbitraryConfig(width=8))  # its encoder is a random one, far from VGG16
    student = ArbitraryConfig(width=8, thin_convs=THINNER)
    trained = train_arbitrary(_config(data, "thin", steps=12, distill_steps=12, lr=3e-3, net=student,
                                      teacher=str(tmp_path / "teacher")), show_progress=False)
    photo, painting = _crops(data)
    images = torch.cat([photo, painting])
    started = ArbitraryStyleNet(student)
    started.load_encoder(load_backbone("vgg16-hed"))  # where the run's encoder started
    distilled = ArbitraryStyleNet(student)
    distilled.load_state_dict(torch.load(trained)["net"])
    with torch.no_grad():
        target = teacher.encoder(images)
        errors = [relative_mse(net.encoder(images), target).item() for net in (started, distilled)]
    assert errors[1] < 0.5 * errors[0]


def test_a_thinner_student_learns_what_the_teacher_paints_from_its_own_features(data, tmp_path):
    # The student's encoder starts as VGG16's, thinned: close to the teacher's but for the order of its channels.
    teacher = _teacher(tmp_path / "teacher", ArbitraryConfig(width=8), shuffled=True)
    student = ArbitraryConfig(width=8, thin_convs=THINNER)
    trained = train_arbitrary(_config(data, "whole", steps=30, net=student, teacher=str(tmp_path / "teacher"),
                                      lr=2e-2, reconstruct_share=0.0), show_progress=False)
    distilled = ArbitraryStyleNet(student)
    distilled.load_state_dict(torch.load(trained)["net"])
    distilled.eval()
    photo, painting = _crops(data)
    with torch.no_grad():
        mine = stylize_tensors(distilled, photo, painting)
        content_f = distilled.encoder(add_margin(photo))
        matrix, bias = feature_transforms(content_f, distilled.encoder(painting), torch.ones(1))
        misread = cut_margin(teacher(content_f, matrix, bias))  # the teacher's decoder on the student's features
    painted = stylize_tensors(teacher, photo, painting)
    assert (mine - painted).abs().mean() < 0.5 * (mine - misread).abs().mean()


def test_a_distilled_decoder_also_matches_the_teachers_texture_when_asked(data, tmp_path):
    _teacher(tmp_path / "teacher", ArbitraryConfig(width=8))
    runs = {weight: train_arbitrary(_config(data, f"texture-{weight}", steps=2, teacher=str(tmp_path / "teacher"),
                                            gram_weight=weight), show_progress=False) for weight in (0.0, 10.0)}
    assert "gram" not in json.loads((runs[0.0].parent / "history.json").read_text())[-1]
    assert all(h["gram"] > 0 for h in json.loads((runs[10.0].parent / "history.json").read_text()))
    # In the loss, not only in the record: the same crops train the decoder differently.
    nets = [torch.load(path)["net"] for path in runs.values()]
    assert any(not torch.equal(nets[0][k], nets[1][k]) for k in nets[0] if k.startswith("decoder."))


def test_a_student_started_from_another_release_still_decodes_the_teachers_features(data, tmp_path):
    teacher = _teacher(tmp_path / "teacher", ArbitraryConfig(width=8))
    other = ArbitraryStyleNet(ArbitraryConfig(width=8))
    with torch.no_grad():  # an encoder distilled elsewhere
        for p in other.encoder.parameters():
            p.add_(0.01)
    torch.save(other.state_dict(), tmp_path / "other.pt")
    trained = torch.load(train_arbitrary(_config(data, "from-other", steps=1, teacher=str(tmp_path / "teacher"),
                                                 init_from=str(tmp_path / "other.pt")), show_progress=False))["net"]
    for key, value in teacher.state_dict().items():
        if key.startswith("encoder."):
            assert torch.equal(trained[key], value)
