import pytest
import torch

from stylecore.networks.microast import PUBLISHED_FILES, MicroAST, load_published, mean_std

from .synthetic import write_published


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return write_published(tmp_path_factory.mktemp("microast") / "published")


def test_it_loads_the_four_published_files_strictly(published):
    net = load_published(published)
    for part, file in PUBLISHED_FILES.items():
        saved = torch.load(published / file, weights_only=True)
        assert saved.keys() == getattr(net, part).state_dict().keys()
        assert all(torch.equal(saved[k], v) for k, v in getattr(net, part).state_dict().items())


def test_it_refuses_a_file_with_a_missing_layer(published, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(published, broken)
    state = torch.load(broken / PUBLISHED_FILES["decoder"], weights_only=True)
    del state["dec3.10.conv_layer.bias"]
    torch.save(state, broken / PUBLISHED_FILES["decoder"])
    with pytest.raises(RuntimeError, match="dec3.10.conv_layer.bias"):
        load_published(broken)


def test_it_keeps_the_photo_size_and_sums_a_painting_up_in_a_code_of_any_size(published):
    net = load_published(published).eval()
    with torch.no_grad():
        codes = [net.style_code(torch.rand(1, 3, h, w)) for h, w in ((64, 64), (50, 90))]
        out = net(torch.rand(2, 3, 48, 72), codes[0].expand(2, -1, -1))
    assert [c.shape for c in codes] == [(1, 8, 64)] * 2
    assert out.shape == (2, 3, 48, 72)


def test_its_stages_compose_to_the_whole_network(published):
    net = load_published(published).eval()
    photo, code = torch.rand(1, 3, 40, 56), net.style_code(torch.rand(1, 3, 64, 64))
    with torch.no_grad():
        features = net.encode(photo)
        hidden = net.modulate(features, *mean_std(features), code)
        staged = net.decode(hidden, *mean_std(hidden), code)
        torch.testing.assert_close(staged, net(photo, code))
    assert features.shape == hidden.shape == (1, 64, 10, 14)


def test_it_gives_the_styles_statistics_to_the_photos_features():
    # AdaIN (MicroAST's feature modulation): the modulated features carry the code's mean and std per channel.
    from stylecore.networks.microast import adain

    features = torch.randn(1, 64, 12, 12) * 3 + 1
    target_mean, target_std = torch.randn(1, 64), torch.rand(1, 64) + 0.5
    out = adain(features, *mean_std(features), target_mean, target_std)
    mean, std = mean_std(out)
    torch.testing.assert_close(mean, target_mean, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(std, target_std, atol=1e-3, rtol=1e-3)
