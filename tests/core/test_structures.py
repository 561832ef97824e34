"""Setup: its mid and its worst loss are computed once, from its own (immutable) legs and quotes."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime

from seeker.core.execution import combo_mid
from seeker.core.models import Leg, OptionContract, OptionQuote
from seeker.core.payoff import worst_loss_at_expiry
from seeker.core.structures import Setup

EXP = date(2027, 1, 15)
TS = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)


def quote(strike: float, bid: float, ask: float) -> OptionQuote:
    c = OptionContract("XLF", EXP, strike, "P")
    return OptionQuote(c, bid, ask, 0.2, -0.2, 0.01, 0.05, -0.01, 100, 10, 47.0, TS)


def spread(short_bid: float, short_ask: float) -> Setup:
    short, long = quote(45.0, short_bid, short_ask), quote(44.0, 0.10, 0.12)
    legs = (Leg(short.contract, "SELL"), Leg(long.contract, "BUY"))
    return Setup("test", "XLF", "bull_put_spread", legs, (short, long), 47.0, 11, "BPS")


def test_the_mid_is_the_combo_mid_and_follows_new_quotes() -> None:
    setup = spread(0.40, 0.44)
    assert setup.mid == combo_mid(setup.legs, setup.quotes)
    assert setup.mid == setup.mid
    requoted = replace(setup, quotes=(quote(45.0, 0.60, 0.64), setup.quotes[1]))
    assert requoted.mid == combo_mid(requoted.legs, requoted.quotes)
    assert requoted.mid != setup.mid
    assert setup.mid == combo_mid(setup.legs, setup.quotes)


def test_the_worst_loss_is_the_payoff_module_s_at_every_debit() -> None:
    setup = spread(0.40, 0.44)
    for debit in (-0.5, -0.31, 0.0, 0.2, 1.5, math.inf):
        assert setup.worst_loss(debit) == worst_loss_at_expiry(setup.legs, debit)
    wider = replace(setup, legs=(setup.legs[0], Leg(quote(43.0, 0.05, 0.07).contract, "BUY")))
    assert wider.worst_loss(-0.3) == worst_loss_at_expiry(wider.legs, -0.3)
    assert wider.worst_loss(-0.3) != setup.worst_loss(-0.3)


def test_a_fixed_worst_loss_adds_what_is_paid_above_the_mid() -> None:
    setup = replace(spread(0.40, 0.44), fixed_worst_loss=0.5)
    assert setup.worst_loss(setup.mid) == 0.5
    assert setup.worst_loss(setup.mid + 0.25) == 0.5 + max(0.0, setup.mid + 0.25 - setup.mid)
