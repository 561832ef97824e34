"""The diagonal on a European, cash-settled listing (an index such as SPX): the later leg is
priced with Black-Scholes alone, no intrinsic floor — checked against a brute-force grid."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from seeker.core.calendar import expiry_close, years_between
from seeker.core.models import Listing
from seeker.core.pricing import bs_price
from seeker.core.structures import Setup
from seeker.strategies.diagonal import scanner
from tests.strategies.diagonal.test_diagonal import LONG, RATE, SHORT, config
from tests.strategies.fixtures import LISTING, TODAY, bs_chain, chain

INDEX = replace(LISTING, kind="index", style="european", settlement="cash", dividend_yield=0.02)


def _brute_force_european(setup: Setup, debit: float, q: float, top: float) -> float:
    grid = np.linspace(1e-6, top, 400_001)
    value = np.zeros_like(grid)
    first = min(leg.contract.expiry for leg in setup.legs)
    for leg, quote in zip(setup.legs, setup.quotes, strict=True):
        c = leg.contract
        if c.expiry == first:
            worth = (
                np.maximum(grid - c.strike, 0) if c.right == "C" else np.maximum(c.strike - grid, 0)
            )
        else:
            years = years_between(expiry_close(first), expiry_close(c.expiry))
            worth = bs_price(grid, c.strike, years, RATE, quote.iv, c.right == "C", q)
        value += leg.sign * leg.ratio * worth
    return max(0.0, debit - float(value.min()))


def _setups(listing: Listing, right: str, shape: str = "calendar") -> list[Setup]:
    c = bs_chain([SHORT, LONG], [46.0 + 0.5 * i for i in range(17)], spot=50.0, iv=0.25)
    setups, note = scanner.find_setups(
        config(shape=shape, max_debit=5.0), "diagonal", listing, c, TODAY, [right], RATE
    )
    assert setups, note
    return setups


@pytest.mark.parametrize("shape", ["calendar", "diagonal"])
def test_a_european_put_calendar_risks_its_debit_plus_the_long_puts_carry(shape: str) -> None:
    gap = years_between(expiry_close(SHORT), expiry_close(LONG))
    for s in _setups(INDEX, "P", shape):
        long = next(leg for leg in s.legs if leg.action == "BUY").contract
        short = next(leg for leg in s.legs if leg.action == "SELL").contract
        for debit in (s.mid, s.natural):
            brute = _brute_force_european(s, debit, INDEX.dividend_yield, top=250.0)
            assert s.worst_loss(debit) == pytest.approx(brute, abs=1e-6)
            # at S → 0 the short put owes K_short, the European long is worth K_long e^(−rT)
            at_zero = short.strike - long.strike * math.exp(-RATE * gap)
            assert s.worst_loss(debit) == pytest.approx(debit + at_zero, abs=1e-9)
        american = _setups(LISTING, "P", shape)
        worse = {a.label: a.worst_loss(a.mid) for a in american}
        assert s.worst_loss(s.mid) > worse[s.label] + 1e-9


def test_a_european_call_calendar_on_a_dividend_payer_is_refused_as_unbounded() -> None:
    c = bs_chain([SHORT, LONG], [46.0 + 0.5 * i for i in range(17)], spot=50.0, iv=0.25)
    setups, note = scanner.find_setups(
        config(max_debit=5.0), "diagonal", INDEX, c, TODAY, ["C"], RATE
    )
    assert setups == []
    assert "worst loss unbounded" in note
    # without a dividend the long call's value grows like S again: bounded, and matching the grid
    no_div = replace(INDEX, dividend_yield=0.0)
    for s in _setups(no_div, "C"):
        brute = _brute_force_european(s, s.mid, 0.0, top=400.0)
        assert s.worst_loss(s.mid) == pytest.approx(brute, abs=1e-6)


def test_quotes_without_theta_get_black_scholes_theta_and_say_so() -> None:
    c = bs_chain([SHORT, LONG], [46.0 + 0.5 * i for i in range(17)], spot=50.0, iv=0.25)
    blind = chain([q._replace(theta=float("nan")) for q in c.quotes], spot=50.0)
    given, _ = scanner.find_setups(
        config(max_debit=5.0), "diagonal", LISTING, c, TODAY, ["P"], RATE
    )
    derived, _ = scanner.find_setups(
        config(max_debit=5.0), "diagonal", LISTING, blind, TODAY, ["P"], RATE
    )
    assert [s.label for s in derived] == [s.label for s in given]
    for a, b in zip(given, derived, strict=True):
        assert "theta_from" not in a.features and "theta_from" in b.features
        assert b.features["net_theta"] == pytest.approx(a.features["net_theta"], rel=1e-3)
