"""Credit spread: leg selection per side, each exit rule at its threshold, max loss vs a payoff
grid, the critic's credit/risk floor, and a run on the simulated market through the CLI."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from seeker.agents.critic import CriticConfig
from seeker.agents.verdict import Verdict
from seeker.core.execution import combo_mid
from seeker.core.journal import read_events
from seeker.core.models import Leg
from seeker.core.payoff import pnl_at_expiry
from seeker.engine.signals import PositionView
from seeker.strategies.credit_spread import risk, scanner
from seeker.strategies.credit_spread.config import CreditSpreadConfig
from seeker.strategies.credit_spread.strategy import CreditSpread
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


def config(**over: object) -> CreditSpreadConfig:
    base: dict[str, object] = dict(
        **COMMON_STRATEGY_FIELDS,
        dte_min=35,
        dte_target=45,
        dte_max=55,
        short_delta_min=0.10,
        short_delta_max=0.15,
        wing_widths=[0.5, 1.0],
        min_credit=0.01,
        take_profit_pct=50.0,
        stop_debit_multiple=2.0,
        short_delta_stop=0.30,
        manage_dte=21,
        force_exit_dte=5,
        critic_min_credit_to_risk=0.10,
    )
    base["regime"] = {**COMMON_STRATEGY_FIELDS["regime"], "trend": ["up", "down"]}  # type: ignore[dict-item]
    base.update(over)
    return CreditSpreadConfig.model_validate(base)


def constructed_chain():
    # strike, bid, ask, delta; spot 50
    puts = ladder_side(
        EXP45,
        "P",
        [
            (44.5, 0.04, 0.06, -0.08),
            (45.0, 0.10, 0.12, -0.105),
            (45.5, 0.13, 0.15, -0.125),
            (46.0, 0.17, 0.19, -0.145),
            (46.5, 0.22, 0.24, -0.18),
            (47.0, 0.28, 0.30, -0.22),
            (52.0, 2.10, 2.14, -0.14),  # in the money with an in-band |Δ|: never a short
        ],
    )
    calls = ladder_side(
        EXP45,
        "C",
        [
            (48.0, 2.20, 2.24, 0.12),  # in the money with an in-band |Δ|: never a short
            (53.0, 0.27, 0.29, 0.21),
            (54.0, 0.16, 0.18, 0.155),
            (54.5, 0.12, 0.14, 0.13),
            (55.0, 0.09, 0.11, 0.11),
            (55.5, 0.06, 0.08, 0.085),
            (56.0, 0.04, 0.06, 0.065),
        ],
    )
    near = ladder_side(EXP30, "P", [(45.5, 0.08, 0.10, -0.12)])
    return chain([*puts, *calls, *near], spot=50.0)


def strikes(setup) -> list[tuple[float, str, str]]:
    return [(leg.contract.strike, leg.contract.right, leg.action) for leg in setup.legs]


# -- entries ---------------------------------------------------------------------------------


def test_bull_put_sells_a_put_in_the_band_and_keeps_the_best_three() -> None:
    setups, _ = scanner.find_setups(
        config(), "credit_spread", LISTING, constructed_chain(), TODAY, "bull_put"
    )
    # shorts: 45.5P (|Δ| 0.125, the band's middle) and 46.0P (0.145, nearest its top 0.15);
    # credit / worst loss: 45.5/44.5 0.09/0.91, 46/45.5 0.04/0.46, 46/45 0.07/0.93,
    # 45.5/45 0.03/0.47 (fourth: dropped)
    assert [strikes(s) for s in setups] == [
        [(45.5, "P", "SELL"), (44.5, "P", "BUY")],
        [(46.0, "P", "SELL"), (45.5, "P", "BUY")],
        [(46.0, "P", "SELL"), (45.0, "P", "BUY")],
    ]
    assert [-s.mid for s in setups] == pytest.approx([0.09, 0.04, 0.07])
    best = setups[0]
    assert best.kind == "bull_put_spread" and best.expiry == EXP45 and best.dte == 46
    assert best.features["side"] == "bull_put" and best.features["width"] == 1.0
    assert best.label == "BPS XLF 2026-04-17 45.5/44.5P"


def test_bear_call_sells_a_call_in_the_band() -> None:
    setups, _ = scanner.find_setups(
        config(), "credit_spread", LISTING, constructed_chain(), TODAY, "bear_call"
    )
    # 54.0C (|Δ| 0.155) is outside the band: 54.5C (0.13) is the short for both targets
    assert sorted(strikes(s)[1][0] for s in setups) == [55.0, 55.5]
    assert all(strikes(s)[0] == (54.5, "C", "SELL") for s in setups)
    assert all(s.kind == "bear_call_spread" and s.features["side"] == "bear_call" for s in setups)
    by_width = {s.features["width"]: s for s in setups}
    assert combo_mid(by_width[0.5].legs, by_width[0.5].quotes) == pytest.approx(-0.03)
    assert combo_mid(by_width[1.0].legs, by_width[1.0].quotes) == pytest.approx(-0.06)


@pytest.mark.parametrize("side", [None, "none", "iron"])
def test_without_a_trend_side_there_is_no_setup(side: str | None) -> None:
    setups, note = scanner.find_setups(
        config(), "credit_spread", LISTING, constructed_chain(), TODAY, side
    )
    assert setups == [] and "no trend side" in note


def test_scan_sells_on_the_side_the_selection_chose() -> None:
    fake = SimpleNamespace(config=config(), name="credit_spread")
    c = constructed_chain()
    for side, right in (("bull_put", "P"), ("bear_call", "C")):
        fit = Verdict("regime", True, "fits", details={"side": side})
        setups, _ = CreditSpread.scan(fake, LISTING, c, TODAY, None, fit)  # type: ignore[arg-type]
        assert setups and all(leg.contract.right == right for s in setups for leg in s.legs)
    fit = Verdict("regime", True, "fits", details={"side": None})
    setups, note = CreditSpread.scan(fake, LISTING, c, TODAY, None, fit)  # type: ignore[arg-type]
    assert setups == [] and "no trend side" in note


def test_min_credit_filters_and_says_why() -> None:
    setups, note = scanner.find_setups(
        config(min_credit=0.08), "credit_spread", LISTING, constructed_chain(), TODAY, "bull_put"
    )
    assert [strikes(s) for s in setups] == [[(45.5, "P", "SELL"), (44.5, "P", "BUY")]]
    assert "mid credit 0.07 < 0.08" in note


def test_no_expiry_or_no_short_in_the_band_is_reported() -> None:
    c = chain(ladder_side(EXP30, "P", [(45.5, 0.08, 0.10, -0.12)]))
    setups, note = scanner.find_setups(config(), "credit_spread", LISTING, c, TODAY, "bull_put")
    assert setups == [] and "no expiry within 35–55 DTE" in note
    c = chain(ladder_side(EXP45, "P", [(47.0, 0.28, 0.30, -0.22), (44.0, 0.02, 0.04, -0.06)]))
    setups, note = scanner.find_setups(config(), "credit_spread", LISTING, c, TODAY, "bull_put")
    assert setups == [] and "no out-of-the-money put with |Δ| in 0.10–0.15" in note


def test_a_missing_wing_is_reported() -> None:
    c = chain(ladder_side(EXP45, "P", [(45.5, 0.13, 0.15, -0.125), (45.0, 0.10, 0.12, -0.105)]))
    setups, note = scanner.find_setups(config(), "credit_spread", LISTING, c, TODAY, "bull_put")
    assert [s.features["width"] for s in setups] == [0.5]
    assert "no 1 $ wing listed beyond 45.5P" in note


def test_max_loss_matches_brute_force_payoff() -> None:
    grid = np.linspace(0.0, 120.0, 240_001)
    for side in ("bull_put", "bear_call"):
        setups, _ = scanner.find_setups(
            config(), "credit_spread", LISTING, constructed_chain(), TODAY, side
        )
        assert setups
        for s in setups:
            for debit in (s.mid, s.natural, -0.01):
                brute = -pnl_at_expiry(s.legs, debit, grid).min()
                assert s.worst_loss(debit) == pytest.approx(brute, abs=1e-9)
                assert s.worst_loss(debit) == pytest.approx(s.features["width"] + debit)


# -- exits -----------------------------------------------------------------------------------

CREDIT = 0.125  # binary-exact, so thresholds compare exactly


def _view(close_mid: float, dte: int, short_delta: float = -0.12, qty: int = 1) -> PositionView:
    c = constructed_chain()
    short = c.quote(EXP45, 45.5, "P")
    long = c.quote(EXP45, 44.5, "P")
    assert short is not None and long is not None
    legs = [Leg(short.contract, "SELL"), Leg(long.contract, "BUY")]
    pos = position(legs, entry_price=-CREDIT, qty=qty)
    quotes = {short.contract: short._replace(delta=short_delta), long.contract: long}
    return PositionView(pos, NOW, 50.0, dte, quotes, close_mid, close_mid + 0.02)


def test_take_profit_at_half_the_credit_with_its_limit() -> None:
    target = CREDIT * (1.0 - 50.0 / 100.0)
    assert first_signal(risk.EXITS, config(), _view(target + 0.01, 40)) is None
    for debit in (target, target - 0.01):
        sig = first_signal(risk.EXITS, config(), _view(debit, 40, qty=2))
        assert sig is not None and sig.rule == "take_profit" and sig.qty == 2
        assert sig.limit == pytest.approx(0.0625) and not sig.urgent


def test_stop_at_twice_the_credit() -> None:
    assert first_signal(risk.EXITS, config(), _view(2 * CREDIT - 0.01, 40)) is None
    for debit in (2 * CREDIT, 2 * CREDIT + 0.01):
        sig = first_signal(risk.EXITS, config(), _view(debit, 40))
        assert sig is not None and sig.rule == "stop" and sig.limit is None and not sig.urgent
    sig = first_signal(risk.EXITS, config(stop_debit_multiple=1.5), _view(1.5 * CREDIT, 40))
    assert sig is not None and sig.rule == "stop"


def test_stop_when_the_short_delta_exceeds_its_limit() -> None:
    assert first_signal(risk.EXITS, config(), _view(0.15, 40, short_delta=-0.30)) is None
    sig = first_signal(risk.EXITS, config(), _view(0.15, 40, short_delta=-0.31))
    assert sig is not None and sig.rule == "delta_stop" and "0.31 > 0.30" in sig.reason
    # the debit stop is checked first when both fire
    sig = first_signal(risk.EXITS, config(), _view(0.25, 40, short_delta=-0.31))
    assert sig is not None and sig.rule == "stop"


def test_manage_at_21_dte() -> None:
    assert first_signal(risk.EXITS, config(), _view(0.10, 22)) is None
    for dte in (21, 20):
        sig = first_signal(risk.EXITS, config(), _view(0.10, dte))
        assert sig is not None and sig.rule == "manage_dte" and not sig.urgent
    # a stop still wins over the DTE rule
    sig = first_signal(risk.EXITS, config(), _view(0.10, 21, short_delta=-0.35))
    assert sig is not None and sig.rule == "delta_stop"


def test_force_exit_is_urgent_and_first() -> None:
    sig = first_signal(risk.EXITS, config(), _view(0.10, 6))
    assert sig is not None and sig.rule == "manage_dte"
    for dte in (5, 4):
        sig = first_signal(risk.EXITS, config(), _view(0.30, dte, short_delta=-0.5))
        assert sig is not None and sig.rule == "force_exit" and sig.urgent


def test_config_rejects_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="short_delta_stop"):
        config(short_delta_stop=0.15)
    with pytest.raises(ValueError, match="short_delta_max"):
        config(short_delta_max=0.05)
    with pytest.raises(ValueError, match="manage_dte"):
        config(manage_dte=40)
    with pytest.raises(ValueError, match="force_exit_dte"):
        config(force_exit_dte=22)
    with pytest.raises(ValueError, match="entry_window_end"):
        config(entry_window_end=time(9, 0))
    with pytest.raises(ValueError, match="stop_debit_multiple"):
        config(stop_debit_multiple=1.0)
    with pytest.raises(ValueError, match="critic_min_credit_to_risk"):
        config(critic_min_credit_to_risk=None)


def test_critic_config_replaces_only_the_credit_to_risk_floor() -> None:
    shared = CriticConfig.model_validate(shipped()["critic"])
    fake = SimpleNamespace(
        services=SimpleNamespace(config=SimpleNamespace(critic=shared)), config=config()
    )
    mine = CreditSpread.critic_config(fake)  # type: ignore[arg-type]
    assert mine.min_credit_to_risk == 0.10
    assert mine.model_dump() == {**shared.model_dump(), "min_credit_to_risk": 0.10}


# -- the simulated market --------------------------------------------------------------------


def test_runs_on_the_simulated_market(tmp_path: Path) -> None:
    """80 sessions: trends with a high IV rank are rare early in the shipped market's year."""
    data = shipped()
    data["strategies"]["enabled"] = ["credit_spread"]
    assert (
        data["strategies"]["credit_spread"]["underlyings"]
        == (data["strategies"]["iron_condor"]["underlyings"])
    )
    cfg = write_config(tmp_path, data)
    logs = tmp_path / "logs"
    args = ["run", "credit_spread", "--days", "80", "--config", str(cfg), "--log-dir", str(logs)]
    res = seeker(*args, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    folder = logs / "credit_spread"
    fills = read_events(folder, ["FILL"])
    opened = {f["position_id"] for f in fills if f["intent"] == "open"}
    closed = {f["position_id"] for f in fills if f["intent"] == "close"}
    assert opened and closed and closed <= opened, (opened, closed)
    assert all(p.startswith("cs-") for p in opened)
    rules = {"force_exit", "stop", "delta_stop", "manage_dte", "take_profit"}
    rules |= {"event_close", "event_reduce"}
    assert {f["exit_rule"] for f in fills if f["intent"] == "close"} <= rules
    decisions = read_events(folder, ["DECISION"])
    for d in decisions:
        if d["outcome"] != "order":
            continue
        side = d["verdicts"][0]["details"]["side"]
        assert d["features"]["side"] == side
        legs = d["setup"]["legs"]
        right = "P" if side == "bull_put" else "C"
        assert [leg["right"] for leg in legs] == [right, right]
        short, long = legs
        assert short["action"] == "SELL" and long["action"] == "BUY"
        assert (short["strike"] > long["strike"]) == (side == "bull_put")
    orders = [json.loads(line) for line in (folder / "trades.jsonl").open()]
    assert all(o["max_loss"] > 0 for o in orders if o["event"] == "ORDER")


class TestCreditSpreadContract(StrategyContract):
    """The contract every strategy package keeps, for the credit spread."""

    name = "credit_spread"
