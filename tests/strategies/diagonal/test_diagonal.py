"""Diagonal / calendar: leg selection, worst loss vs a brute-force grid, each management rule,
the roll decision, and a run on the real simulated market that opens, rolls and closes."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from seeker.core.calendar import expiry_close, years_between
from seeker.core.journal import read_events
from seeker.core.models import Chain, Leg, OptionQuote
from seeker.core.positions import load_book
from seeker.core.pricing import bs_price
from seeker.engine.signals import PositionView
from seeker.strategies.diagonal import Diagonal, risk, scanner
from seeker.strategies.diagonal.config import DiagonalConfig
from tests.strategies.contract import StrategyContract
from tests.strategies.fixtures import (
    COMMON_STRATEGY_FIELDS,
    LISTING,
    NOW,
    TODAY,
    bs_chain,
    chain,
    first_signal,
    ladder_side,
    open_position,
)
from tests.support import seeker, shipped, write_config

SHORT = date(2026, 3, 27)  # 25 DTE from 2026-03-02 (weekly)
MONTHLY_NEAR = date(2026, 3, 20)  # 18 DTE: outside 21-30
SHORT_LATE = date(2026, 4, 2)  # 31 DTE: outside
LONG = date(2026, 5, 15)  # 74 DTE, monthly
LONG_WEEKLY = date(2026, 5, 1)  # 60 DTE, weekly
LONG_FAR = date(2026, 6, 19)  # 109 DTE: outside 60-90
RATE = 0.043


def shipped_table() -> dict[str, Any]:
    """Return the shipped [strategies.diagonal] table of config/seeker.toml."""
    return dict(shipped()["strategies"]["diagonal"])


def config(**over: object) -> DiagonalConfig:
    base: dict[str, object] = dict(
        **COMMON_STRATEGY_FIELDS,
        right="C",
        shape="calendar",
        short_dte_min=21,
        short_dte_max=30,
        long_dte_min=60,
        long_dte_max=90,
        short_delta_min=0.30,
        short_delta_max=0.45,
        max_debit=0.58,
        short_take_profit_pct=50.0,
        short_exit_dte=8,
        roll=True,
        stop_loss_pct_of_risk=50.0,
        long_exit_dte=21,
    )
    base.update(over)
    return DiagonalConfig.model_validate(base)


def constructed_chain() -> Chain:
    # (strike, bid, ask, delta)
    shorts = ladder_side(
        SHORT,
        "C",
        [
            (50.5, 0.78, 0.80, 0.47),
            (51.0, 0.60, 0.62, 0.42),
            (51.5, 0.45, 0.47, 0.37),
            (52.0, 0.33, 0.35, 0.32),
            (52.5, 0.23, 0.25, 0.27),
        ],
    )
    longs = ladder_side(
        LONG,
        "C",
        [
            (51.0, 1.20, 1.22, 0.47),
            (51.5, 1.00, 1.02, 0.43),
            (52.0, 0.83, 0.85, 0.39),
            (52.5, 0.68, 0.70, 0.35),
        ],
    )
    puts = ladder_side(SHORT, "P", [(49.0, 0.50, 0.52, -0.38), (48.5, 0.36, 0.38, -0.31)])
    put_longs = ladder_side(LONG, "P", [(49.0, 1.05, 1.07, -0.40), (48.5, 0.88, 0.90, -0.36)])
    decoys = [
        *ladder_side(MONTHLY_NEAR, "C", [(51.5, 0.35, 0.37, 0.36)]),
        *ladder_side(SHORT_LATE, "C", [(51.5, 0.50, 0.52, 0.38)]),
        *ladder_side(LONG_WEEKLY, "C", [(51.5, 0.92, 0.94, 0.42)]),
        *ladder_side(LONG_FAR, "C", [(51.5, 1.30, 1.32, 0.45)]),
    ]
    return chain([*shorts, *longs, *puts, *put_longs, *decoys], spot=50.0)


def _strikes(setups: list[Any]) -> set[tuple[float, float]]:
    out = set()
    for s in setups:
        short = risk.short_leg(s.legs).contract
        long = risk.long_leg(s.legs).contract
        assert (short.expiry, long.expiry) == (SHORT, LONG)
        out.add((short.strike, long.strike))
    return out


# -- leg selection ---------------------------------------------------------------------------


def test_expiries_short_21_30_and_long_60_90_monthly_preferred() -> None:
    listed = [MONTHLY_NEAR, SHORT, SHORT_LATE, LONG_WEEKLY, LONG, LONG_FAR]
    strategy = SimpleNamespace(config=config())
    assert Diagonal.wanted_expiries(strategy, listed, TODAY) == [SHORT, LONG]  # type: ignore[arg-type]
    # with no monthly in the long window, the expiry nearest its middle (75 DTE)
    weeklies = [SHORT, LONG_WEEKLY, date(2026, 5, 22)]
    assert Diagonal.wanted_expiries(strategy, weeklies, TODAY) == [SHORT, date(2026, 5, 22)]  # type: ignore[arg-type]


def test_calendar_shorts_slightly_otm_by_delta_long_at_the_same_strike() -> None:
    setups, note = scanner.find_setups(
        config(), "diagonal", LISTING, constructed_chain(), TODAY, ["C"], RATE
    )
    # |Δ| targets 0.30, 0.375, 0.45 in the band → 52 (0.32), 51.5 (0.37), 51 (0.42); 51 costs
    # 1.21 − 0.61 = 0.60 > max_debit 0.58
    assert _strikes(setups) == {(51.5, 51.5), (52.0, 52.0)}
    assert "mid debit 0.60 > 0.58" in note
    by_strike = {risk.short_leg(s.legs).contract.strike: s for s in setups}
    cal = by_strike[51.5]
    assert cal.kind == "calendar" and cal.dte == 25
    assert cal.mid == pytest.approx(1.01 - 0.46)
    assert cal.natural == pytest.approx(1.02 - 0.45)
    assert [leg.action for leg in cal.legs] == ["BUY", "SELL"]


def test_diagonal_long_one_strike_further_out_of_the_money() -> None:
    setups, _ = scanner.find_setups(
        config(shape="diagonal", max_debit=1.0),
        "diagonal",
        LISTING,
        constructed_chain(),
        TODAY,
        ["C"],
        RATE,
    )
    assert _strikes(setups) == {(51.0, 51.5), (51.5, 52.0), (52.0, 52.5)}
    assert all(s.kind == "diagonal" and s.features["width"] == 0.5 for s in setups)


def test_put_side_and_trend_choice() -> None:
    setups, _ = scanner.find_setups(
        config(), "diagonal", LISTING, constructed_chain(), TODAY, ["P"], RATE
    )
    # puts below spot: 49 (|Δ| 0.38) and 48.5 (0.31)
    assert _strikes(setups) == {(49.0, 49.0), (48.5, 48.5)}
    strategy = SimpleNamespace(config=config(right="trend"))
    for trend, sides in (("up", ["C"]), ("down", ["P"]), ("none", ["C", "P"])):
        assert Diagonal.rights(strategy, SimpleNamespace(trend=trend)) == sides  # type: ignore[arg-type]
    fixed = SimpleNamespace(config=config(right="P"))
    assert Diagonal.rights(fixed, SimpleNamespace(trend="up")) == ["P"]  # type: ignore[arg-type]


def test_missing_windows_and_debits_are_reported() -> None:
    c = chain(ladder_side(SHORT, "C", [(51.5, 0.45, 0.47, 0.37)]))
    setups, note = scanner.find_setups(config(), "diagonal", LISTING, c, TODAY, ["C"], RATE)
    assert setups == [] and "no long expiry within 60–90" in note
    c = chain(ladder_side(LONG, "C", [(51.5, 1.0, 1.02, 0.43)]))
    setups, note = scanner.find_setups(config(), "diagonal", LISTING, c, TODAY, ["C"], RATE)
    assert setups == [] and "no short expiry within 21–30" in note
    setups, note = scanner.find_setups(
        config(max_debit=0.10), "diagonal", LISTING, constructed_chain(), TODAY, ["C"], RATE
    )
    assert setups == [] and "> 0.10" in note


def test_entry_bound_is_the_max_debit() -> None:
    strategy = SimpleNamespace(config=config(max_debit=0.42))
    assert Diagonal.entry_bound(strategy, None) == pytest.approx(0.42)  # type: ignore[arg-type]


# -- worst loss --------------------------------------------------------------------------------


def _brute_force(setup: Any, debit: float, q: float, top: float) -> float:
    """Worst loss on a dense grid at the short expiry: short at intrinsic, long repriced
    with Black-Scholes at its IV, floored at intrinsic (American)."""
    grid = np.linspace(0.01, top, 400_001)
    value = np.zeros_like(grid)
    first = min(leg.contract.expiry for leg in setup.legs)
    for leg, quote in zip(setup.legs, setup.quotes, strict=True):
        c = leg.contract
        intrinsic = (
            np.maximum(grid - c.strike, 0) if c.right == "C" else np.maximum(c.strike - grid, 0)
        )
        if c.expiry == first:
            worth = intrinsic
        else:
            years = years_between(expiry_close(first), expiry_close(c.expiry))
            worth = np.maximum(
                bs_price(grid, c.strike, years, RATE, quote.iv, c.right == "C", q), intrinsic
            )
        value += leg.sign * leg.ratio * worth
    return max(0.0, debit - float(value.min()))


@pytest.mark.parametrize("dividend", [0.015, 0.0])
@pytest.mark.parametrize("right", ["C", "P"])
@pytest.mark.parametrize("shape", ["calendar", "diagonal"])
def test_worst_loss_matches_a_brute_force_grid_with_the_long_repriced(
    dividend: float, right: str, shape: str
) -> None:
    listing = replace(LISTING, dividend_yield=dividend)
    c = bs_chain([SHORT, LONG], [46.0 + 0.5 * i for i in range(17)], spot=50.0, iv=0.25)
    setups, note = scanner.find_setups(
        config(shape=shape, max_debit=5.0), "diagonal", listing, c, TODAY, [right], RATE
    )
    assert setups, note
    for s in setups:
        width = s.features["width"]
        for debit in (s.mid, s.natural):
            brute = _brute_force(s, debit, dividend, top=250.0)
            assert s.worst_loss(debit) == pytest.approx(brute, abs=1e-6)
            if shape == "calendar":
                # a calendar never loses more than its debit, and can lose all of it
                assert s.worst_loss(debit) == pytest.approx(debit, abs=1e-9)
            elif dividend > 0 or right == "P":
                # the long further OTM: the strike difference adds to the debit
                assert s.worst_loss(debit) == pytest.approx(debit + width, abs=1e-9)
            else:
                # no dividend: a deep ITM long call keeps K(1 − e^(−rT)) over intrinsic
                assert debit < s.worst_loss(debit) < debit + width


def test_worst_loss_needs_the_long_iv() -> None:
    s = constructed_chain()
    long_q = s.quote(LONG, 51.5, "C")
    short_q = s.quote(SHORT, 51.5, "C")
    assert long_q is not None and short_q is not None
    legs = (Leg(long_q.contract, "BUY"), Leg(short_q.contract, "SELL"))
    quotes = {long_q.contract: long_q._replace(iv=float("nan")), short_q.contract: short_q}
    with pytest.raises(Exception, match="no IV"):
        risk.worst_loss(legs, quotes, 0.5, RATE, 0.015)


# -- management --------------------------------------------------------------------------------


def _position_view(
    now: datetime,
    spot: float = 50.0,
    short_mid: float = 0.46,
    close_mid: float = -0.55,
    sold_at: float | None = 0.46,
    max_loss: float = 57.6,
) -> PositionView:
    c = constructed_chain()
    long_q, short_q = c.quote(LONG, 51.5, "C"), c.quote(SHORT, 51.5, "C")
    assert long_q is not None and short_q is not None
    long, short = Leg(long_q.contract, "BUY"), Leg(short_q.contract, "SELL")
    prices = {long: 1.01, short: sold_at} if sold_at is not None else {long: 1.01}
    pos = open_position(
        [long, short], 0.55, max_loss_unit=max_loss, strategy="diagonal", leg_prices=prices
    )
    quotes = {
        long.contract: long_q,
        short.contract: short_q._replace(bid=short_mid - 0.01, ask=short_mid + 0.01),
    }
    dte = (SHORT - now.date()).days
    return PositionView(pos, now, spot, dte, quotes, close_mid, close_mid + 0.03)


def test_no_exit_while_nothing_fires() -> None:
    assert first_signal(risk.EXITS, config(), _position_view(NOW)) is None


def test_short_take_profit_at_half_its_premium() -> None:
    assert first_signal(risk.EXITS, config(), _position_view(NOW, short_mid=0.24)) is None
    sig = first_signal(risk.EXITS, config(), _position_view(NOW, short_mid=0.23))
    assert sig is not None and sig.rule == "short_take_profit" and "0.46" in sig.reason
    # a short without a known sale price skips the rule
    assert (
        first_signal(risk.EXITS, config(), _position_view(NOW, short_mid=0.01, sold_at=None))
        is None
    )


def test_short_bought_back_at_short_exit_dte() -> None:
    at = datetime.combine(SHORT - timedelta(days=9), NOW.timetz())
    assert first_signal(risk.EXITS, config(), _position_view(at)) is None
    at = datetime.combine(SHORT - timedelta(days=8), NOW.timetz())
    sig = first_signal(risk.EXITS, config(), _position_view(at))
    assert sig is not None and sig.rule == "short_exit_dte" and sig.roll_to is None


def test_stop_when_pnl_below_share_of_risk() -> None:
    # entry debit 0.55; P&L = −(0.55 + close_mid) × 100; −50 % of 57.60 $ = −28.80 $
    assert first_signal(risk.EXITS, config(), _position_view(NOW, close_mid=-0.27)) is None
    sig = first_signal(risk.EXITS, config(), _position_view(NOW, close_mid=-0.26))
    assert sig is not None and sig.rule == "stop" and not sig.urgent


def test_close_everything_when_the_long_nears_long_exit_dte() -> None:
    at = datetime.combine(LONG - timedelta(days=21), NOW.timetz())
    view = _position_view(at)
    sig = first_signal(risk.EXITS, config(), view)
    assert sig is not None and sig.rule == "long_exit"


class _Broker:
    """Expiries and chains of a constructed chain (what next_short reads)."""

    def __init__(self, c: Chain) -> None:
        self.c = c

    def expiries(self, listing_id: str) -> list[date]:
        return self.c.expiries

    def option_chain(self, listing_id: str, expiries: Any, strikes: Any) -> Chain:
        return self.c


def _strategy(cfg: DiagonalConfig, extra: list[OptionQuote]) -> Diagonal:
    strategy = object.__new__(Diagonal)
    base = constructed_chain()
    strategy.config = cfg
    strategy.services = SimpleNamespace(broker=_Broker(chain([*base.quotes, *extra])))
    return strategy


NEXT = date(2026, 4, 17)  # monthly, 29 DTE on 2026-03-19
NEXT_WEEKLY = date(2026, 4, 10)
AT_EXIT = datetime.combine(SHORT - timedelta(days=8), NOW.timetz())


def test_buy_back_becomes_a_roll_into_the_next_short() -> None:
    extra = [
        *ladder_side(
            NEXT, "C", [(51.0, 0.7, 0.72, 0.46), (51.5, 0.5, 0.52, 0.40), (52.0, 0.4, 0.42, 0.33)]
        ),
        *ladder_side(NEXT_WEEKLY, "C", [(51.5, 0.45, 0.47, 0.38)]),
    ]
    sig = _strategy(config(), extra).exit_signal(_position_view(AT_EXIT))
    assert sig is not None and sig.rule == "short_exit_dte" and sig.roll_to is not None
    long, new_short = sig.roll_to
    assert long.action == "BUY" and long.contract.expiry == LONG
    # monthly preferred; |Δ| nearest 0.375 among strikes ≥ the long's 51.5 → 51.5 (0.40)
    assert new_short.action == "SELL"
    assert (new_short.contract.expiry, new_short.contract.strike) == (NEXT, 51.5)
    assert "roll to XLF 2026-04-17 51.5C" in sig.reason


def test_roll_never_moves_the_short_inside_the_long() -> None:
    # spot fell: the in-band calls of the next expiry lie below the long's strike → close
    extra = ladder_side(NEXT, "C", [(50.5, 0.5, 0.52, 0.40), (51.5, 0.2, 0.22, 0.2)])
    sig = _strategy(config(), extra).exit_signal(_position_view(AT_EXIT, spot=49.0))
    assert sig is not None and sig.roll_to is None and "no roll" in sig.reason
    assert "at or above 51.5" in sig.reason


def test_no_roll_when_off_or_without_a_later_expiry() -> None:
    extra = ladder_side(NEXT, "C", [(51.5, 0.5, 0.52, 0.40)])
    sig = _strategy(config(roll=False), extra).exit_signal(_position_view(AT_EXIT))
    assert sig is not None and sig.roll_to is None and "roll is off" in sig.reason
    sig = _strategy(config(), []).exit_signal(_position_view(AT_EXIT))
    assert sig is not None and sig.roll_to is None and "no expiry within 21–30" in sig.reason
    # the long must outlive the next short's management: long_exit_dte 50 leaves no room
    cfg = config(long_dte_min=80, long_dte_max=90, long_exit_dte=50)
    sig = _strategy(cfg, extra).exit_signal(_position_view(AT_EXIT))
    assert sig is not None and sig.roll_to is None and "outlives by more than 42 days" in sig.reason


def test_config_rejects_inconsistent_windows() -> None:
    with pytest.raises(ValueError, match="short_dte_max"):
        config(short_dte_max=20)
    with pytest.raises(ValueError, match="long_dte_min"):
        config(long_dte_min=30)
    with pytest.raises(ValueError, match="short_exit_dte"):
        config(short_exit_dte=21)
    with pytest.raises(ValueError, match="long_exit_dte"):
        config(long_exit_dte=40)
    with pytest.raises(ValueError, match="short_delta_max"):
        config(short_delta_max=0.2)
    # the engine manages a diagonal at its short's exit DTE
    assert Diagonal.manage_dte.fget(SimpleNamespace(config=config())) == 8  # type: ignore[attr-defined]


def test_shipped_table_is_complete_and_valid() -> None:
    cfg = DiagonalConfig.model_validate(shipped_table())
    assert cfg.underlyings == shipped()["strategies"]["iron_condor"]["underlyings"]
    assert (cfg.mode, cfg.quantity, cfg.roll, cfg.shape) == ("trade", 1, True, "calendar")
    assert (cfg.short_dte_min, cfg.short_dte_max, cfg.long_dte_min, cfg.long_dte_max) == (
        21,
        30,
        60,
        90,
    )


# -- the simulated market ---------------------------------------------------------------------


def test_cli_run_opens_rolls_and_closes_diagonals(tmp_path: Path) -> None:
    data = shipped()
    table = shipped_table()
    table["underlyings"] = ["F", "PFE", "EEM", "SLV"]
    data["strategies"]["diagonal"] = table
    data["strategies"]["enabled"] = ["diagonal"]
    cfg = write_config(tmp_path, data)
    logs = tmp_path / "logs"
    res = seeker(
        "run",
        "diagonal",
        "--config",
        str(cfg),
        "--days",
        "120",
        "--log-dir",
        str(logs),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    folder = logs / "diagonal"
    fills = read_events(folder, ["FILL"])
    intents = Counter(f["intent"] for f in fills)
    assert intents["open"] >= 2 and intents["close"] >= 1 and intents["roll"] >= 1, intents
    orders = read_events(folder, ["ORDER"])
    rolls = [o for o in orders if o["intent"] == "roll"]
    assert all(o["order_ref"] == f"seeker:diagonal:{o['position_id']}:roll" for o in rolls)
    book, _ = load_book(folder)
    for order in rolls:
        # one combo: buy the old short back, sell the new one; new_legs = long + new short
        assert sorted(leg["action"] for leg in order["legs"]) == ["BUY", "SELL"]
        assert len(order["new_legs"]) == 2 and order["risk"] <= order["held_risk"] + 1e-4
    rolled = [p for p in book.positions.values() if p.rolls]
    assert rolled
    for pos in rolled:
        assert risk.short_leg(pos.legs).contract.expiry.isoformat() > pos.meta["short_expiry"]
    assert {f.get("exit_rule") for f in fills if f["intent"] == "close"} & {
        "short_take_profit",
        "short_exit_dte",
        "stop",
        "long_exit",
    }


class TestDiagonalContract(StrategyContract):
    """The contract every strategy package keeps, for the diagonal."""

    name = "diagonal"
    golden_listings = ("F", "PFE", "EEM", "SLV")  # cheap enough for a calendar's max debit
