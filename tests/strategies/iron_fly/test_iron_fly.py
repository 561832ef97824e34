"""Iron fly: centre and wing selection on constructed chains, the event buffer, each exit rule at
its threshold, max loss vs a payoff grid, and a run on the simulated market through the CLI."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from seeker.agents.event_risk import Event
from seeker.core.calendar import MARKET_TZ
from seeker.core.journal import read_events
from seeker.core.models import DataUnavailable, Leg
from seeker.core.payoff import pnl_at_expiry
from seeker.engine.signals import PositionView
from seeker.strategies.common.exits import first_exit
from seeker.strategies.iron_fly import risk, scanner
from seeker.strategies.iron_fly.config import IronFlyConfig
from seeker.strategies.iron_fly.strategy import IronFly
from tests.strategies.contract import StrategyContract
from tests.strategies.fixtures import (
    COMMON_STRATEGY_FIELDS,
    LISTING,
    NOW,
    TODAY,
    chain,
    first_signal,
    ladder_side,
    position,
)
from tests.support import ROOT, seeker, shipped, write_config

EXP45 = date(2026, 4, 17)  # 46 DTE from 2026-03-02
EXP30 = date(2026, 4, 2)  # 31 DTE: outside 35-55

# strike: (call bid, call ask, put bid, put ask)
BOOK = {
    48.5: (2.20, 2.24, 0.50, 0.54),
    49.0: (1.85, 1.89, 0.65, 0.69),
    49.5: (1.52, 1.56, 0.83, 0.87),
    50.0: (1.22, 1.26, 1.04, 1.08),
    50.5: (0.96, 1.00, 1.28, 1.32),
    51.0: (0.74, 0.78, 1.56, 1.60),
    51.5: (0.56, 0.60, 1.88, 1.92),
    52.0: (0.41, 0.45, 2.23, 2.27),
}


def config(**over: object) -> IronFlyConfig:
    base: dict[str, object] = dict(
        **COMMON_STRATEGY_FIELDS,
        dte_min=35,
        dte_target=45,
        dte_max=55,
        wing_widths=[0.5, 1.0],
        min_credit=0.30,
        event_buffer_days=3,
        take_profit_pct=40.0,
        stop_debit_multiple=2.0,
        gamma_exit_pct=25.0,
        manage_dte=21,
        force_exit_dte=5,
    )
    base.update(over)
    return IronFlyConfig.model_validate(base)


def constructed_chain(
    spot: float = 50.2, skip: tuple[float, ...] = (), no_bid: float | None = None
):
    """Return the BOOK around `spot` (strikes in `skip` left out, `no_bid`'s put unsellable)."""
    calls, puts = [], []
    for k, (cb, ca, pb, pa) in BOOK.items():
        if k in skip:
            continue
        calls.append((k, cb, ca, 0.5))
        puts.append((k, 0.0 if k == no_bid else pb, pa, -0.5))
    near = ladder_side(EXP30, "C", [(50.0, 1.00, 1.04, 0.5)])
    return chain(
        [*ladder_side(EXP45, "C", calls), *ladder_side(EXP45, "P", puts), *near], spot=spot
    )


def shape(setup) -> tuple[float, float]:
    """Return (centre, width) of an iron fly setup."""
    return setup.features["centre"], setup.features["width"]


# -- entries ---------------------------------------------------------------------------------


def test_sells_the_straddle_nearest_the_money_with_both_wings() -> None:
    setups, _ = scanner.find_setups(
        config(), "iron_fly", LISTING, constructed_chain(), TODAY, "none"
    )
    # centre 50 (0.2 from 50.2), then 50.5 on the other side of the price; 50 ± 0.5 credits
    # 0.47 for 0.03 of risk, 50 ± 1 0.87 for 0.13, 50.5 ± 0.5 0.46 for 0.04, 50.5 ± 1 0.85
    assert [shape(s) for s in setups] == [(50.0, 0.5), (50.0, 1.0), (50.5, 0.5)]
    fly = setups[0]
    assert [(leg.contract.strike, leg.contract.right, leg.action) for leg in fly.legs] == [
        (50.0, "P", "SELL"),
        (49.5, "P", "BUY"),
        (50.0, "C", "SELL"),
        (50.5, "C", "BUY"),
    ]
    assert [-s.mid for s in setups] == pytest.approx([0.47, 0.87, 0.46])
    assert fly.kind == "iron_fly" and fly.expiry == EXP45 and fly.dte == 46
    assert fly.label == "IF XLF 2026-04-17 49.5/50/50.5"
    assert fly.features["centre_offset_pct"] == pytest.approx(100 * (50.0 - 50.2) / 50.2, abs=1e-3)


@pytest.mark.parametrize(
    ("spot", "trend", "second"),
    [(50.2, "up", 50.5), (50.2, "down", 49.5), (50.2, "none", 50.5), (50.3, "none", 50.0)],
)
def test_second_centre_leans_toward_the_trend(spot: float, trend: str, second: float) -> None:
    c = constructed_chain(spot=spot)
    nearest = 50.0 if spot < 50.25 else 50.5
    assert scanner.centres(c, EXP45, trend) == [nearest, second]
    setups, _ = scanner.find_setups(config(), "iron_fly", LISTING, c, TODAY, trend)
    assert {shape(s)[0] for s in setups} == {nearest, second}


def test_no_second_centre_beyond_the_last_strike() -> None:
    c = constructed_chain(skip=(50.5, 51.0, 51.5, 52.0))
    assert scanner.centres(c, EXP45, "up") == [50.0]
    assert scanner.centres(c, EXP45, "down") == [50.0, 49.5]


def test_a_centre_needs_both_sides_sellable_and_wings_listed() -> None:
    c = constructed_chain(no_bid=50.0)
    assert scanner.centres(c, EXP45, "none")[0] == 50.5
    setups, note = scanner.find_setups(
        config(), "iron_fly", LISTING, constructed_chain(skip=(49.0,)), TODAY, "none"
    )
    assert (50.0, 1.0) not in [shape(s) for s in setups]
    assert "no 1 $ wing listed around 50" in note


def test_min_credit_filters_and_says_why() -> None:
    setups, note = scanner.find_setups(
        config(min_credit=0.48), "iron_fly", LISTING, constructed_chain(), TODAY, "none"
    )
    assert [shape(s) for s in setups] == [(50.0, 1.0), (50.5, 1.0)]
    assert "50 ±0.5 $: mid credit 0.47 < 0.48" in note
    assert "50.5 ±0.5 $: mid credit 0.46 < 0.48" in note


def test_no_expiry_in_window_is_reported() -> None:
    c = chain(ladder_side(EXP30, "C", [(50.0, 1.00, 1.04, 0.5)]))
    setups, note = scanner.find_setups(config(), "iron_fly", LISTING, c, TODAY, "none")
    assert setups == [] and "no expiry within 35–55 DTE" in note


def test_max_loss_matches_brute_force_payoff() -> None:
    setups, _ = scanner.find_setups(config(), "iron_fly", LISTING, constructed_chain(), TODAY, "up")
    grid = np.linspace(0.0, 120.0, 240_001)
    assert setups
    for s in setups:
        for debit in (s.mid, s.natural, -0.01):
            brute = -pnl_at_expiry(s.legs, debit, grid).min()
            assert s.worst_loss(debit) == pytest.approx(brute, abs=1e-9)
            assert s.worst_loss(debit) == pytest.approx(s.features["width"] + debit)


def _event(kind: str = "CPI") -> Event:
    return Event(kind, datetime(2026, 3, 11, 8, 30, tzinfo=MARKET_TZ), "*")


def test_event_buffer_refuses_an_opening_at_or_inside_it() -> None:
    cfg = config(event_buffer_days=3)
    assert scanner.event_refusal(cfg, None) is None
    assert scanner.event_refusal(cfg, (_event(), 4)) is None
    for away in (3, 1, 0):
        reason = scanner.event_refusal(cfg, (_event(), away))
        assert reason is not None and f"CPI 2026-03-11 is J-{away}" in reason
        assert "event_buffer_days = 3" in reason


def _fake(next_event=None, atr: float | None = 0.5, cfg: IronFlyConfig | None = None):
    def regime(listing_id: str) -> SimpleNamespace:
        if atr is None:
            raise DataUnavailable("no history")
        return SimpleNamespace(atr=atr)

    def nxt(listing, now):
        if isinstance(next_event, Exception):
            raise next_event
        return next_event

    services = SimpleNamespace(
        clock=SimpleNamespace(now=lambda: NOW),
        event_risk=SimpleNamespace(next_event=nxt),
        regime=regime,
    )
    return SimpleNamespace(services=services, config=cfg or config(), name="iron_fly")


def test_scan_applies_the_event_buffer_and_refuses_when_the_calendar_is_unknown() -> None:
    regime = SimpleNamespace(trend="none")
    c = constructed_chain()
    setups, note = IronFly.scan(_fake((_event("FOMC"), 2)), LISTING, c, TODAY, regime, None)  # type: ignore[arg-type]
    assert setups == [] and "FOMC" in note and "J-2" in note
    setups, _ = IronFly.scan(_fake((_event(), 9)), LISTING, c, TODAY, regime, None)  # type: ignore[arg-type]
    assert len(setups) == 3
    with pytest.raises(DataUnavailable, match="next event unknown"):
        IronFly.scan(_fake(DataUnavailable("calendar ends")), LISTING, c, TODAY, regime, None)  # type: ignore[arg-type]


# -- exits -----------------------------------------------------------------------------------

CREDIT = 0.375  # binary-exact, so thresholds compare exactly
MAX_LOSS = 12.5  # $ per unit: makes the gamma share 100 × ATR² with the gammas below


def _view(
    close_mid: float, dte: int, short_gamma: float = 0.25, long_gamma: float = 0.125
) -> PositionView:
    c = constructed_chain()
    picks = [(50.0, "P", "SELL"), (49.5, "P", "BUY"), (50.0, "C", "SELL"), (50.5, "C", "BUY")]
    legs, quotes = [], {}
    for k, right, action in picks:
        q = c.quote(EXP45, k, right)  # type: ignore[arg-type]
        assert q is not None
        legs.append(Leg(q.contract, action))  # type: ignore[arg-type]
        quotes[q.contract] = q._replace(gamma=short_gamma if action == "SELL" else long_gamma)
    pos = position(legs, entry_price=-CREDIT)
    pos.max_loss_unit = MAX_LOSS
    return PositionView(pos, NOW, 50.2, dte, quotes, close_mid, close_mid + 0.08)


def test_take_profit_at_40_pct_of_the_credit_with_its_limit() -> None:
    target = CREDIT * (1.0 - 40.0 / 100.0)
    assert first_signal(risk.EXITS, config(), _view(target + 0.01, 40), 0.1) is None
    for debit in (target, target - 0.01):
        sig = first_signal(risk.EXITS, config(), _view(debit, 40), 0.1)
        assert sig is not None and sig.rule == "take_profit" and not sig.urgent
        assert sig.limit == pytest.approx(0.225)


def test_stop_at_a_multiple_of_the_credit() -> None:
    assert first_signal(risk.EXITS, config(), _view(2 * CREDIT - 0.01, 40), 0.1) is None
    for debit in (2 * CREDIT, 2 * CREDIT + 0.01):
        sig = first_signal(risk.EXITS, config(), _view(debit, 40), 0.1)
        assert sig is not None and sig.rule == "stop" and not sig.urgent
    # the debit to close never exceeds the width: with a credit above width / multiple the stop
    # cannot fire, even at the worst (the whole loss is then smaller than the cost of closing)
    assert first_signal(risk.EXITS, config(), _view(0.5, 40), 0.1) is None


def test_gamma_exit_when_a_one_atr_move_costs_its_share_of_max_loss() -> None:
    # Γ = −2 × 0.25 + 2 × 0.125 = −0.25; ½ · 0.25 · ATR² · 100 / 12.5 $ = 100 · ATR² %
    assert risk.gamma_loss_pct(_view(0.40, 40), 0.5) == pytest.approx(25.0)
    assert first_signal(risk.EXITS, config(), _view(0.40, 40), 0.49) is None
    for atr in (0.5, 0.6):
        sig = first_signal(risk.EXITS, config(), _view(0.40, 40), atr)
        assert sig is not None and sig.rule == "gamma" and not sig.urgent
        assert "1-ATR move" in sig.reason
    # long gamma (price beyond a wing) never triggers it
    long_gamma = _view(0.40, 40, short_gamma=0.05, long_gamma=0.125)
    assert risk.gamma_loss_pct(long_gamma, 5.0) == 0.0
    # an unknown ATR skips the rule, the others still apply
    assert math.isnan(risk.gamma_loss_pct(_view(0.40, 40), math.nan))
    assert first_signal(risk.EXITS, config(), _view(0.40, 40), math.nan) is None
    sig = first_signal(risk.EXITS, config(), _view(0.40, 21), math.nan)
    assert sig is not None and sig.rule == "manage_dte"


def test_manage_at_21_dte() -> None:
    assert first_signal(risk.EXITS, config(), _view(0.40, 22), 0.1) is None
    for dte in (21, 20):
        sig = first_signal(risk.EXITS, config(), _view(0.40, dte), 0.1)
        assert sig is not None and sig.rule == "manage_dte" and not sig.urgent
    sig = first_signal(risk.EXITS, config(), _view(0.40, 21), 0.5)
    assert sig is not None and sig.rule == "gamma"


def test_force_exit_is_urgent_and_first() -> None:
    sig = first_signal(risk.EXITS, config(), _view(0.40, 6), 0.1)
    assert sig is not None and sig.rule == "manage_dte"
    for dte in (5, 4):
        sig = first_signal(risk.EXITS, config(), _view(0.80, dte), 0.9)
        assert sig is not None and sig.rule == "force_exit" and sig.urgent


def test_exit_inputs_read_the_atr_and_cope_without_it() -> None:
    inputs = IronFly.exit_inputs(_fake(atr=0.5), _view(0.40, 40))  # type: ignore[arg-type]
    assert inputs.atr == 0.5
    sig = first_exit(risk.EXITS, config(), inputs)
    assert sig is not None and sig.rule == "gamma"
    inputs = IronFly.exit_inputs(_fake(atr=None), _view(0.40, 40))  # type: ignore[arg-type]
    assert math.isnan(inputs.atr) and first_exit(risk.EXITS, config(), inputs) is None
    inputs = IronFly.exit_inputs(_fake(atr=None), _view(0.40, 21))  # type: ignore[arg-type]
    sig = first_exit(risk.EXITS, config(), inputs)
    assert sig is not None and sig.rule == "manage_dte"


def test_config_rejects_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="min_credit"):
        config(min_credit=0.5)
    with pytest.raises(ValueError, match="dte_target"):
        config(dte_target=30)
    with pytest.raises(ValueError, match="manage_dte"):
        config(manage_dte=40)
    with pytest.raises(ValueError, match="force_exit_dte"):
        config(force_exit_dte=22)
    with pytest.raises(ValueError, match="entry_window_end"):
        config(entry_window_end=time(9, 0))
    with pytest.raises(ValueError, match="event_buffer_days"):
        config(event_buffer_days=-1)


# -- the simulated market --------------------------------------------------------------------


def test_runs_on_the_simulated_market(tmp_path: Path) -> None:
    data = shipped()
    data["strategies"]["enabled"] = ["iron_fly"]
    assert (
        data["strategies"]["iron_fly"]["underlyings"]
        == (data["strategies"]["iron_condor"]["underlyings"])
    )
    cfg = write_config(tmp_path, data)
    logs = tmp_path / "logs"
    args = ["run", "iron_fly", "--days", "40", "--config", str(cfg), "--log-dir", str(logs)]
    res = seeker(*args, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    folder = logs / "iron_fly"
    fills = read_events(folder, ["FILL"])
    opened = {f["position_id"] for f in fills if f["intent"] == "open"}
    closed = {f["position_id"] for f in fills if f["intent"] == "close"}
    assert opened and closed and closed <= opened, (opened, closed)
    assert all(p.startswith("if-") for p in opened)
    rules = {"force_exit", "stop", "gamma", "manage_dte", "take_profit"}
    rules |= {"event_close", "event_reduce"}
    assert {f["exit_rule"] for f in fills if f["intent"] == "close"} <= rules
    for d in read_events(folder, ["DECISION"]):
        if d["outcome"] != "order":
            continue
        legs = d["setup"]["legs"]
        shorts = {(leg["strike"], leg["right"]) for leg in legs if leg["action"] == "SELL"}
        centre = d["features"]["centre"]
        assert shorts == {(centre, "P"), (centre, "C")}
        wings = sorted(leg["strike"] for leg in legs if leg["action"] == "BUY")
        width = d["features"]["width"]
        assert wings == pytest.approx([centre - width, centre + width])


class TestIronFlyContract(StrategyContract):
    """The contract every strategy package keeps, for the iron fly."""

    name = "iron_fly"
