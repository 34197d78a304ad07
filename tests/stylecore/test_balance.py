import numpy as np
import pytest

from stylecore.balance import BALANCES, fit_rule, measure, rule_balances, training_pairs, wins
from stylecore.compare import held_out_pairs
from stylecore.errors import InvalidOptionError


def _row(change: float, winning_balance: float) -> dict:
    """A pair the peer (Gram 0.2, content 1.0) loses to ours only near ``winning_balance``: ours trades content for
    Gram as the balance rises, and its curve passes under the peer's point there alone."""
    ours = [{"gram": 0.19 - 0.1 * (b - winning_balance), "content": 0.99 + 0.05 * (b - winning_balance)}
            for b in BALANCES]  # won from winning_balance - 0.1 to winning_balance + 0.2
    return {"photo": "p.jpg", "painting": "x.jpg", "change": change, "peer": {"gram": 0.2, "content": 1.0},
            "ours": ours}


def test_it_interpolates_ours_between_the_rendered_balances():
    row = _row(1.0, winning_balance=0.25)  # won between the rendered 0 and 0.5 only
    assert list(wins([row] * 3, np.array([0.0, 0.25, 0.5]))) == [False, True, False]


def test_the_fitted_rule_gives_pairs_far_from_the_photo_more_of_the_painting():
    # Pairs whose map moves the features far (large change) are won only at high balances, near ones only at low
    # ones: no single balance wins more than a third of them, the rule wins them all.
    rows = [_row(0.1, -1.0), _row(0.12, -1.0), _row(0.4, 0.0), _row(0.45, 0.0), _row(2.0, 1.0), _row(3.0, 1.0)]
    rule = fit_rule(rows)
    assert max(rule["wins_at_balance"].values()) == 2
    assert rule["wins"] == 6 and rule["slope"] > 0
    chosen = rule_balances(np.array([r["change"] for r in rows]), rule["slope"], rule["log_centre"])
    assert list(wins(rows, chosen)) == [True] * 6


def test_the_rule_is_flat_when_one_balance_wins_everything():
    rule = fit_rule([_row(c, 0.0) for c in (0.1, 0.5, 2.0)])
    assert rule["slope"] == 0 and rule["wins"] == 3


def test_it_fits_on_training_pairs_only(tmp_path):
    for folder, names in (("photos", [f"p{i}.jpg" for i in range(70)]), ("paintings", [f"s{i}.jpg" for i in range(8)])):
        (tmp_path / folder).mkdir()
        for name in names:
            (tmp_path / folder / name).touch()
    pairs = training_pairs(tmp_path / "photos", tmp_path / "paintings", per_painting=3)
    held_out = held_out_pairs(tmp_path / "photos", tmp_path / "paintings", 60 * 5)
    assert len(pairs) == 3 * 3  # 3 training paintings (5 held out), 3 photos each
    assert not {p for p, _ in pairs} & {p for p, _ in held_out} and not {s for _, s in pairs} & {s for _, s in held_out}
    with pytest.raises(InvalidOptionError, match="photos per painting must be between 1 and 10"):
        training_pairs(tmp_path / "photos", tmp_path / "paintings", per_painting=11)


def test_it_refuses_to_fit_a_network_without_a_balance(tiny_arbitrary_weights):
    with pytest.raises(InvalidOptionError, match="no balance to fit"):
        measure(tiny_arbitrary_weights, [])
