"""Worst loss at expiry: exact kink evaluation against a brute-force grid."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.core.models import Leg, OptionContract
from seeker.core.payoff import (
    best_gain_at_expiry,
    breakevens_at_expiry,
    loss_at_debit,
    lowest_value_at_expiry,
    pnl_at_expiry,
    pnl_at_price,
    worst_loss_at_expiry,
)

EXP = date(2027, 1, 15)


def leg(strike: float, right: str, action: str, ratio: int = 1) -> Leg:
    return Leg(OptionContract("XLF", EXP, strike, right), action, ratio)  # type: ignore[arg-type]


def test_iron_condor_worst_loss_is_width_minus_credit() -> None:
    legs = [
        leg(45, "P", "SELL"),
        leg(44.5, "P", "BUY"),
        leg(50, "C", "SELL"),
        leg(50.5, "C", "BUY"),
    ]
    assert math.isclose(worst_loss_at_expiry(legs, -0.12), 0.38)
    assert math.isclose(best_gain_at_expiry(legs, -0.12), 0.12)
    assert breakevens_at_expiry(legs, -0.12) == [44.88, 50.12]


def test_unequal_wings_take_the_larger_side() -> None:
    legs = [leg(45, "P", "SELL"), leg(44, "P", "BUY"), leg(50, "C", "SELL"), leg(50.5, "C", "BUY")]
    assert math.isclose(worst_loss_at_expiry(legs, -0.20), 0.80)


def test_naked_short_call_is_not_risk_defined() -> None:
    assert worst_loss_at_expiry([leg(50, "C", "SELL")], -1.0) == math.inf
    assert best_gain_at_expiry([leg(50, "C", "BUY")], 1.0) == math.inf


def test_debit_butterfly_loses_its_debit() -> None:
    legs = [leg(45, "C", "BUY"), leg(46, "C", "SELL", 2), leg(47, "C", "BUY")]
    assert math.isclose(worst_loss_at_expiry(legs, 0.30), 0.30)


strikes = st.sampled_from([40.0, 42.5, 45.0, 45.5, 47.0, 50.0, 52.5, 55.0])
legs_st = st.lists(
    st.tuples(strikes, st.sampled_from("CP"), st.sampled_from(["BUY", "SELL"]), st.integers(1, 3)),
    min_size=1,
    max_size=5,
    unique_by=lambda t: (t[0], t[1]),
)


@settings(max_examples=300, deadline=None)
@given(legs_st, st.floats(-3, 3, allow_nan=False))
def test_worst_loss_matches_a_fine_grid(
    raw: list[tuple[float, str, str, int]], debit: float
) -> None:
    legs = [leg(k, r, a, n) for k, r, a, n in raw]
    grid = np.linspace(0.0, 200.0, 200_001)
    pnl = pnl_at_expiry(legs, debit, grid)
    worst = worst_loss_at_expiry(legs, debit)
    slope = sum(lg.sign * lg.ratio for lg in legs if lg.contract.right == "C")
    if slope < 0:
        assert worst == math.inf
    else:
        assert math.isclose(worst, max(0.0, -pnl.min()), abs_tol=1e-9)


@settings(max_examples=500)
@given(
    raw=st.lists(
        st.tuples(
            st.sampled_from("CP"),
            st.floats(1, 200, allow_nan=False).map(lambda x: round(x * 2) / 2),
            st.sampled_from(["BUY", "SELL"]),
            st.integers(1, 2),
        ),
        min_size=1,
        max_size=4,
    ),
    debit=st.floats(-5, 5, allow_nan=False),
    price=st.floats(0, 400, allow_nan=False),
)
def test_the_scalar_pnl_is_the_vector_pnl_to_the_bit(
    raw: list[tuple[str, float, str, int]], debit: float, price: float
) -> None:
    legs = [Leg(OptionContract("X", date(2026, 1, 16), k, r), a, q) for r, k, a, q in raw]  # type: ignore[arg-type]
    assert pnl_at_price(legs, debit, price) == float(
        pnl_at_expiry(legs, debit, np.array([price]))[0]
    )


def _reference_worst_loss(legs: list[Leg], debit: float) -> float:
    """Return the worst loss as first written: the lowest P&L over the kinks, debit included."""
    if sum(lg.sign * lg.ratio for lg in legs if lg.contract.right == "C") < 0:
        return math.inf
    points = (0.0, *sorted({lg.contract.strike for lg in legs}))
    return max(0.0, -min(pnl_at_price(legs, debit, s) for s in points))


@settings(max_examples=500)
@given(legs_st, st.floats(-5, 5, allow_nan=False))
def test_the_worst_loss_from_the_lowest_value_is_the_kink_minimum_to_the_bit(
    raw: list[tuple[float, str, str, int]], debit: float
) -> None:
    legs = [leg(k, r, a, n) for k, r, a, n in raw]
    expected = _reference_worst_loss(legs, debit)
    assert worst_loss_at_expiry(legs, debit) == expected
    assert loss_at_debit(lowest_value_at_expiry(legs), debit) == expected


def test_legs_of_two_expiries_have_no_lowest_value_at_expiry() -> None:
    later = Leg(OptionContract("XLF", date(2027, 2, 19), 45.0, "P"), "BUY")
    with pytest.raises(ValueError, match="single expiry"):
        lowest_value_at_expiry([leg(45, "P", "SELL"), later])
