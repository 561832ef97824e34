"""Limit ladders: mid first, bounded steps toward the natural, never past the bound."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.core.execution import price_ladder


def test_credit_entry_ladder_stops_at_the_minimum_credit() -> None:
    # mid credit 0.20, natural credit 0.10, never below 0.15 of credit
    assert price_ladder(-0.20, -0.10, -0.15, 0.25, 4, urgent=False) == [-0.20, -0.17, -0.15]


def test_close_ladder_reaches_the_natural() -> None:
    assert price_ladder(0.10, 0.18, 0.18, 0.25, 4, urgent=False) == [0.10, 0.12, 0.14, 0.16, 0.18]


def test_urgent_close_starts_at_the_natural() -> None:
    assert price_ladder(0.10, 0.18, 0.18, 0.25, 4, urgent=True) == [0.18]


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-5, 5, allow_nan=False),
    st.floats(0, 2, allow_nan=False),
    st.floats(-1, 3, allow_nan=False),
    st.floats(0.05, 1.0),
    st.integers(0, 10),
)
def test_ladder_properties(mid: float, gap: float, slack: float, frac: float, steps: int) -> None:
    natural = mid + gap
    bound = natural + slack
    ladder = price_ladder(mid, natural, bound, frac, steps, urgent=False)
    assert 1 <= len(ladder) <= steps + 1
    assert all(b > a for a, b in pairwise(ladder))
    assert all(p <= round(natural, 2) + 0.01 + 1e-9 and p <= bound + 1e-9 for p in ladder[1:])
    assert all(abs(p * 100 - round(p * 100)) < 1e-6 for p in ladder)
