"""The shared fill model and the commission schedule's exchange fee."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seeker.core.calendar import MARKET_TZ
from seeker.core.commissions import CommissionSchedule
from seeker.core.fill_model import (
    ComboPrices,
    book,
    combo_prices,
    leg_fills,
    match,
    match_rng,
)
from seeker.core.models import Leg, OptionContract, OptionQuote

NOW = datetime(2019, 6, 19, 15, 45, tzinfo=MARKET_TZ)


def _quote(strike: float, bid: float, ask: float) -> OptionQuote:
    c = OptionContract("X", date(2019, 7, 19), strike, "P")
    nan = float("nan")
    return OptionQuote(c, bid, ask, nan, nan, nan, nan, nan, None, None, 100.0, NOW)


def test_marketable_limit_fills_whole_at_the_natural_without_drawing() -> None:
    prices = ComboPrices(mid=-0.50, natural=-0.40)
    rng = match_rng(1, "R1", NOW, -0.30, 0)
    state = rng.bit_generator.state
    m = match(-0.30, prices, 3, 0.2, rng)
    assert m is not None and (m.price, m.units, m.marketable) == (-0.40, 3, True)
    assert rng.bit_generator.state == state  # no random draw for a marketable order


def test_probability_from_mid_to_natural() -> None:
    prices = ComboPrices(mid=1.0, natural=1.2)
    assert match(1.0, prices, 1, 0.0, np.random.default_rng(0)) is None
    hits = [match(1.0, prices, 1, 0.25, np.random.default_rng(s)) is not None for s in range(4000)]
    assert sum(hits) / 4000 == pytest.approx(0.25, abs=0.03)
    hits = [match(1.1, prices, 1, 0.2, np.random.default_rng(s)) is not None for s in range(4000)]
    assert sum(hits) / 4000 == pytest.approx(0.6, abs=0.03)  # halfway: 0.2 + 0.8 / 2
    assert match(0.5, prices, 1, 1.0, np.random.default_rng(0)) is None  # a gap below the mid
    assert match(1.0, ComboPrices(1.0, 1.0), 1, 1.0, np.random.default_rng(0)) is not None
    assert match(0.9, ComboPrices(1.0, 1.0), 1, 1.0, np.random.default_rng(0)) is None


def test_combo_prices_need_both_sides_of_every_leg() -> None:
    legs = (Leg(_quote(100, 0, 0).contract, "SELL"), Leg(_quote(95, 0, 0).contract, "BUY"))
    quotes = [_quote(100, 2.0, 2.2), _quote(95, 1.0, 1.1)]
    prices = combo_prices(legs, quotes)
    assert prices is not None
    assert prices.mid == pytest.approx(1.05 - 2.1) and prices.natural == pytest.approx(1.1 - 2.0)
    assert combo_prices(legs, [_quote(100, float("nan"), 2.2), quotes[1]]) is None


@given(
    bids=st.lists(st.floats(0.0, 50.0), min_size=1, max_size=4),
    spread=st.floats(0.0, 2.0),
    side=st.lists(st.booleans(), min_size=4, max_size=4),
    ratio=st.lists(st.sampled_from([1, 2]), min_size=4, max_size=4),
    at=st.floats(0.0, 1.0),
    units=st.integers(1, 5),
)
def test_leg_fills_add_up_exactly_to_the_combo_price(
    bids: list[float], spread: float, side: list[bool], ratio: list[int], at: float, units: int
) -> None:
    quotes = [_quote(100 + i, b, b + spread) for i, b in enumerate(bids)]
    ratios = [1, *ratio[1 : len(quotes)]]  # every structure has a leg of ratio 1
    legs = tuple(
        Leg(q.contract, "BUY" if side[i] else "SELL", ratios[i]) for i, q in enumerate(quotes)
    )
    prices = combo_prices(legs, quotes)
    assert prices is not None
    price = prices.mid + at * (prices.natural - prices.mid)
    fills = leg_fills(legs, quotes, price, prices.mid, units, 2.6, "R1.1")
    net = sum((1 if f.action == "BUY" else -1) * f.price * f.qty for f in fills) / units
    assert net == pytest.approx(round(price, 4), abs=1e-9)  # exactly, to the 0.0001 $ grid
    assert all(f.price == round(f.price, 4) for f in fills)
    assert all(f.price >= 0.0 for f, q in zip(fills, quotes, strict=True) if q.bid > 0.001)
    assert sum(f.commission for f in fills) == pytest.approx(2.6, abs=1e-4 * len(legs))
    assert [f.exec_id for f in fills] == [f"R1.1.{k}" for k in range(1, len(legs) + 1)]


def test_book_averages_keeps_and_flips() -> None:
    c = _quote(100, 1, 1).contract
    held: dict[OptionContract, tuple[int, float]] = {}
    book(held, c, 2, 1.0)
    book(held, c, 2, 2.0)
    assert held[c] == (4, 1.5)
    book(held, c, -1, 9.0)
    assert held[c] == (3, 1.5)
    book(held, c, -5, 3.0)
    assert held[c] == (-2, 3.0)
    book(held, c, 2, 1.0)
    assert c not in held


@given(per=st.floats(0.0, 5.0), minimum=st.floats(0.0, 10.0), n=st.integers(-2, 200))
def test_no_exchange_fee_leaves_commissions_unchanged(per: float, minimum: float, n: int) -> None:
    plain = CommissionSchedule("USD", per, minimum)
    assert plain.order(n) == (max(minimum, per * n) if n > 0 else 0.0)
    assert plain.execution(n, first_of_order=True) == max(per * n, minimum)
    assert plain.execution(n, first_of_order=False) == per * n


def test_exchange_fee_comes_on_top_of_the_minimum() -> None:
    spx = CommissionSchedule("USD", 0.65, 1.0, exchange_fee_per_contract=0.6)
    assert spx.order(1) == pytest.approx(1.0 + 0.6)
    assert spx.order(4) == pytest.approx(0.65 * 4 + 0.6 * 4)
    assert spx.execution(1, first_of_order=False) == pytest.approx(0.65 + 0.6)
