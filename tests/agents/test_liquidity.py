"""Liquidity veto: a datum it cannot see refuses as missing data, never as a pass."""

from __future__ import annotations

from datetime import date

from seeker.agents.liquidity import check_liquidity
from seeker.core.models import OptionContract, OptionQuote
from tests.strategies.fixtures import NOW


def _quote(strike: float, oi: int | None, bid: float = 1.0, ask: float = 1.04) -> OptionQuote:
    c = OptionContract("SPX", date(2026, 4, 17), strike, "P")
    return OptionQuote(c, bid, ask, 0.2, -0.2, 0.01, 0.1, -0.1, oi, 10, 50.0, NOW)


def test_every_datum_known_gives_no_missing_data_detail() -> None:
    ok = check_liquidity([_quote(45, 900)], 5000, 0.05, 500, 1000, 10.0, 50.0)
    assert ok.allowed and "missing_data" not in ok.details
    thin = check_liquidity([_quote(45, 100)], 5000, 0.05, 500, 1000, 10.0, 50.0)
    assert not thin.allowed and "missing_data" not in thin.details
    assert "open interest 100 < 500" in thin.reason


def test_unknown_open_interest_or_volume_is_missing_data() -> None:
    v = check_liquidity([_quote(45, None), _quote(44, 900)], 5000, 0.05, 500, 1000)
    assert not v.allowed
    assert v.details["missing_data"] == ["SPX 2026-04-17 45P: open interest"]
    assert "open interest unknown" in v.reason
    v = check_liquidity([_quote(45, 900)], None, 0.05, 500, 1000)
    assert not v.allowed and v.details["missing_data"] == ["chain volume"]
    nan = float("nan")
    v = check_liquidity([_quote(45, 900, bid=nan)], 5000, 0.05, 500, 1000, nan, 50.0)
    assert v.details["missing_data"] == ["SPX 2026-04-17 45P: bid/ask", "slippage"]
    # a missing datum next to a breach: still missing data (the pipeline files it as "data")
    v = check_liquidity([_quote(45, None, ask=1.5)], 5000, 0.05, 500, 1000)
    assert "spread 0.50 > 0.05" in v.reason and v.details["missing_data"]
