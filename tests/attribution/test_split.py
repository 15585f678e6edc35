"""The largest-remainder split: exact, proportional, on a fixed quantum."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit import ALLOCATION_QUANTUM, split_exact

amounts = st.decimals(
    min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=12, allow_nan=False
)
weights = st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=12).filter(
    lambda ws: sum(ws) > 0
)


@given(amounts, weights)
def test_pieces_sum_exactly_and_stay_within_one_quantum_of_the_exact_share(
    amount: Decimal, ws: list[int]
) -> None:
    pieces = split_exact(amount, ws)
    assert sum(pieces, Decimal(0)) == amount
    total = sum(ws)
    residue = abs(amount) % ALLOCATION_QUANTUM
    for piece, weight in zip(pieces, ws, strict=True):
        share = Fraction(amount) * weight / total
        assert abs(Fraction(piece) - share) <= Fraction(ALLOCATION_QUANTUM) + Fraction(residue)
        if weight == 0:
            assert piece == 0


def test_a_known_split() -> None:
    assert split_exact(Decimal("1.00"), [1, 1, 1]) == [
        Decimal("0.333333334"),
        Decimal("0.333333333"),
        Decimal("0.333333333"),
    ]
    assert split_exact(Decimal("0.10"), [3, 1], quantum=Decimal("0.01")) == [
        Decimal("0.08"),
        Decimal("0.02"),
    ]  # 0.075 and 0.025: one cent left over, to the larger remainder (ties: the first)


def test_a_credit_is_split_like_a_charge() -> None:
    assert split_exact(Decimal("-0.10"), [3, 1], quantum=Decimal("0.01")) == [
        Decimal("-0.08"),
        Decimal("-0.02"),
    ]


def test_whole_pieces_keep_the_amounts_decimals() -> None:
    assert [str(p) for p in split_exact(Decimal("12.50"), [1, 4])] == ["2.50", "10.00"]


def test_more_decimals_than_the_quantum_go_to_the_largest_piece() -> None:
    pieces = split_exact(Decimal("1.0000000000005"), [1, 3])
    assert sum(pieces) == Decimal("1.0000000000005")
    assert pieces == [Decimal("0.25"), Decimal("0.7500000000005")]


@pytest.mark.parametrize("bad", [[], [0, 0], [1, -1]])
def test_nothing_to_split_over_is_refused(bad: list[int]) -> None:
    with pytest.raises(ValueError, match=r"split over|negative|positive sum"):
        split_exact(Decimal(1), bad)
