"""Broken-wing butterfly: leg selection on a constructed chain, max loss vs a payoff grid, each
exit rule, the fall measured for the fast-move stop, and a run on the real simulated market."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from seeker.core.journal import read_events
from seeker.core.models import DailyHistory, DataUnavailable, Leg
from seeker.core.payoff import pnl_at_expiry
from seeker.engine.signals import PositionView
from seeker.strategies.broken_wing_butterfly import BrokenWingButterfly, risk, scanner
from seeker.strategies.broken_wing_butterfly.config import BrokenWingButterflyConfig
from tests.strategies.contract import StrategyContract
from tests.strategies.fixtures import (
    COMMON_STRATEGY_FIELDS,
    LISTING,
    NOW,
    TODAY,
    chain,
    first_signal,
    ladder_side,
    open_position,
)
from tests.support import seeker, shipped, write_config

EXP45 = date(2026, 4, 17)  # 46 DTE from 2026-03-02


def shipped_table() -> dict[str, Any]:
    """Return the shipped [strategies.broken_wing_butterfly] table of config/seeker.toml."""
    return dict(shipped()["strategies"]["broken_wing_butterfly"])


def config(**over: object) -> BrokenWingButterflyConfig:
    base: dict[str, object] = dict(
        **COMMON_STRATEGY_FIELDS,
        dte_min=35,
        dte_target=45,
        dte_max=55,
        body_delta_min=0.25,
        body_delta_max=0.35,
        narrow_wing_widths=[0.5, 1.0],
        broken_wing_widths=[1.0, 1.5],
        min_credit=0.05,
        max_risk=0.45,
        take_profit_pct=50.0,
        move_atr=2.0,
        move_sessions=3,
        manage_dte=21,
        force_exit_dte=5,
    )
    base.update(over)
    return BrokenWingButterflyConfig.model_validate(base)


def constructed_chain() -> Any:
    # (strike, bid, ask, delta): put skew, 46 DTE
    puts = ladder_side(
        EXP45,
        "P",
        [
            (46.5, 0.31, 0.33, -0.16),
            (47.0, 0.37, 0.39, -0.19),
            (47.5, 0.44, 0.46, -0.22),
            (48.0, 0.53, 0.55, -0.26),
            (48.5, 0.64, 0.66, -0.30),
            (49.0, 0.78, 0.80, -0.34),
            (49.5, 0.95, 0.97, -0.40),
        ],
    )
    return chain(puts, spot=50.0)


def _strikes(setup: Any) -> tuple[tuple[float, str, int], ...]:
    return tuple((leg.contract.strike, leg.action, leg.ratio) for leg in setup.legs)


def test_body_by_delta_narrow_wing_above_broken_wing_below() -> None:
    setups, note = scanner.find_setups(config(), "bwb", LISTING, constructed_chain(), TODAY)
    # bodies: |Δ| nearest 0.30 → 48.5, nearest 0.35 → 49; only 0.50/1.00 wings pass:
    # 0.50/1.50 risks 0.95 > 0.45, 1.00/1.50 is a debit
    assert [_strikes(s) for s in setups] == [
        ((49.5, "BUY", 1), (49.0, "SELL", 2), (48.0, "BUY", 1)),
        ((49.0, "BUY", 1), (48.5, "SELL", 2), (47.5, "BUY", 1)),
    ]
    best = setups[0]
    assert best.mid == pytest.approx(0.96 - 2 * 0.79 + 0.54)  # credit 0.08
    assert best.natural == pytest.approx(0.97 - 2 * 0.78 + 0.55)
    assert best.features["narrow"] == 0.5 and best.features["broken"] == 1.0
    assert best.dte == 46 and best.kind == "broken_wing_butterfly"
    assert "worst loss 0.95 at credit 0.05 > 0.45" in note
    assert "mid credit -0.04 < 0.05" in note


def test_min_credit_and_missing_wings_are_reported() -> None:
    setups, note = scanner.find_setups(
        config(min_credit=0.10), "bwb", LISTING, constructed_chain(), TODAY
    )
    assert setups == [] and "< 0.10" in note
    setups, note = scanner.find_setups(
        config(narrow_wing_widths=[2.0], broken_wing_widths=[3.0]),
        "bwb",
        LISTING,
        constructed_chain(),
        TODAY,
    )
    assert setups == [] and "no 2/3 $ wings listed" in note
    c = chain(ladder_side(date(2026, 4, 2), "P", [(48.5, 0.5, 0.52, -0.3)]))
    setups, note = scanner.find_setups(config(), "bwb", LISTING, c, TODAY)
    assert setups == [] and "no expiry within 35–55" in note


def test_max_loss_matches_brute_force_payoff() -> None:
    setups, _ = scanner.find_setups(
        config(max_risk=1.0), "bwb", LISTING, constructed_chain(), TODAY
    )
    assert len(setups) == 3
    grid = np.linspace(0.0, 120.0, 240_001)
    for s in setups:
        broken_minus_narrow = s.features["broken"] - s.features["narrow"]
        for debit in (s.mid, s.natural, -0.05):
            brute = -pnl_at_expiry(s.legs, debit, grid).min()
            assert s.worst_loss(debit) == pytest.approx(brute, abs=1e-9)
            # below the broken wing: (broken − narrow) − credit
            assert s.worst_loss(debit) == pytest.approx(broken_minus_narrow + debit)


# -- exits -------------------------------------------------------------------------------------


def _view(spot: float, close_mid: float, dte: int, credit: float = 0.10) -> PositionView:
    c = constructed_chain()
    k1, k2, k3 = (c.quote(EXP45, k, "P") for k in (49.5, 49.0, 48.0))
    assert k1 is not None and k2 is not None and k3 is not None
    legs = [Leg(k1.contract, "BUY"), Leg(k2.contract, "SELL", 2), Leg(k3.contract, "BUY")]
    pos = open_position(legs, -credit, max_loss_unit=45.2, meta={"spot": 50.0})
    quotes = {q.contract: q for q in (k1, k2, k3)}
    return PositionView(pos, NOW, spot, dte, quotes, close_mid, close_mid + 0.05)


def test_nothing_fires_in_a_quiet_market() -> None:
    assert first_signal(risk.EXITS, config(), _view(50.0, 0.06, 40), fall_atr=0.5) is None


def test_take_profit_at_half_the_credit_with_a_limit() -> None:
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.05, 40))
    assert sig is not None and sig.rule == "take_profit" and sig.limit == pytest.approx(0.05)
    assert first_signal(risk.EXITS, config(take_profit_pct=40.0), _view(50.0, 0.06, 40)) is not None


def test_the_lower_breakeven_exits_urgently() -> None:
    # 49.5/49×2/48 puts for a 0.10 credit: at expiry, P&L = S − 48.40 between 48 and 49
    assert (
        first_signal(risk.EXITS, config(), _view(49.0, 0.06, 40)) is None
    )  # the body is its best point
    assert first_signal(risk.EXITS, config(), _view(48.41, 0.06, 40)) is None
    sig = first_signal(risk.EXITS, config(), _view(48.40, 0.06, 40))
    assert sig is not None and sig.rule == "breakeven" and sig.urgent
    assert "48.40" in sig.reason


def test_the_breakeven_follows_the_entry_price_of_the_same_legs() -> None:
    # the same 49.5/49×2/48 legs for a 0.10 credit (breakeven 48.40), then a 0.20 debit (48.70)
    assert first_signal(risk.EXITS, config(), _view(48.50, 0.06, 40)) is None
    sig = first_signal(risk.EXITS, config(), _view(48.50, 0.06, 40, credit=-0.20))
    assert sig is not None and sig.rule == "breakeven" and "48.70" in sig.reason
    assert first_signal(risk.EXITS, config(), _view(48.50, 0.06, 40)) is None


def test_fast_move_toward_the_broken_wing_exits_urgently() -> None:
    assert first_signal(risk.EXITS, config(), _view(49.8, 0.06, 40), fall_atr=1.99) is None
    sig = first_signal(risk.EXITS, config(), _view(49.8, 0.06, 40), fall_atr=2.0)
    assert sig is not None and sig.rule == "fast_move" and sig.urgent
    assert first_signal(risk.EXITS, config(), _view(49.8, 0.06, 40), fall_atr=None) is None


def test_manage_at_21_dte_and_force_exit() -> None:
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.08, 21))
    assert sig is not None and sig.rule == "manage_dte" and not sig.urgent
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.08, 5))
    assert sig is not None and sig.rule == "force_exit" and sig.urgent


def _history(closes: list[float], last: date) -> DailyHistory:
    days = tuple(last - timedelta(days=len(closes) - 1 - i) for i in range(len(closes)))
    arr = np.array(closes)
    return DailyHistory("XLF", days, arr, arr, arr, arr, np.full(len(closes), 0.2))


class _Services:
    def __init__(self, closes: list[float] | None, atr: float) -> None:
        self.closes, self.atr = closes, atr

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        if self.closes is None:
            raise DataUnavailable("no history")
        return _history(self.closes[-sessions:], NOW.date() - timedelta(days=1))

    def regime(self, listing_id: str) -> Any:
        return SimpleNamespace(atr=self.atr)


def _fall(closes: list[float] | None, spot: float, opened: datetime, atr: float = 0.5) -> Any:
    strategy = object.__new__(BrokenWingButterfly)
    strategy.config = config()
    strategy.services = _Services(closes, atr)
    view = _view(spot, 0.06, 40)
    view.position.opened_at = opened
    return strategy.fall_atr(view)


def test_fall_is_measured_from_the_high_since_entry_in_atrs() -> None:
    long_ago = NOW - timedelta(days=30)
    # last three closes 50.4, 51.0, 50.2; spot 50.0; ATR 0.5 → (51.0 − 50.0) / 0.5
    assert _fall([49.0, 50.4, 51.0, 50.2], 50.0, long_ago) == pytest.approx(2.0)
    # opened yesterday: only yesterday's close and the entry spot (50.0) count
    assert _fall([49.0, 50.4, 51.0, 50.2], 49.5, NOW - timedelta(days=1)) == pytest.approx(1.4)
    # opened today: the fall before the entry never stops the position
    assert _fall([49.0, 50.4, 51.0, 50.2], 49.5, NOW) == pytest.approx(1.0)
    assert _fall(None, 49.5, long_ago) is None
    assert _fall([50.0, 50.0, 50.0], 49.5, long_ago, atr=float("nan")) is None


def test_config_rejects_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="broken wing must be wider"):
        config(broken_wing_widths=[0.5])
    with pytest.raises(ValueError, match="body_delta_max"):
        config(body_delta_max=0.2)
    with pytest.raises(ValueError, match="manage_dte"):
        config(manage_dte=40)
    assert config().widest_wing() == 1.5  # the chain request pads by the widest wing


def test_shipped_table_is_complete_and_valid() -> None:
    table = shipped_table()
    cfg = BrokenWingButterflyConfig.model_validate(table)
    assert cfg.underlyings == shipped()["strategies"]["iron_condor"]["underlyings"]
    assert (cfg.mode, cfg.quantity) == ("trade", 1)


def test_cli_run_opens_and_closes_butterflies(tmp_path: Path) -> None:
    data = shipped()
    table = shipped_table()
    table["underlyings"] = ["EEM", "XLF", "XLE", "GDX", "SLV", "SOFI"]
    data["strategies"]["broken_wing_butterfly"] = table
    data["strategies"]["enabled"] = ["broken_wing_butterfly"]
    cfg = write_config(tmp_path, data)
    logs = tmp_path / "logs"
    res = seeker(
        "run",
        "broken_wing_butterfly",
        "--config",
        str(cfg),
        "--days",
        "40",
        "--log-dir",
        str(logs),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    folder = logs / "broken_wing_butterfly"
    fills = read_events(folder, ["FILL"])
    intents = Counter(f["intent"] for f in fills)
    assert intents["open"] >= 3 and intents["close"] >= 2, intents
    orders = [o for o in read_events(folder, ["ORDER"]) if o["intent"] == "open"]
    for o in orders:
        ratios = sorted((leg["action"], leg["ratio"]) for leg in o["legs"])
        assert ratios == [("BUY", 1), ("BUY", 1), ("SELL", 2)]
        strikes = sorted(leg["strike"] for leg in o["legs"])
        assert strikes[1] - strikes[0] > strikes[2] - strikes[1]  # the broken wing is wider
        assert o["max_loss"] <= 50.0
    exits = {f.get("exit_rule") for f in fills if f["intent"] == "close"}
    assert exits & {"take_profit", "breakeven", "fast_move", "manage_dte", "force_exit"}


class TestBrokenWingButterflyContract(StrategyContract):
    """The contract every strategy package keeps, for the broken wing butterfly."""

    name = "broken_wing_butterfly"
