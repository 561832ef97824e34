"""`seeker summary` figures against a small journal written by hand and computed by hand.

Five positions, written with the real ``Journal`` (so the real line format):

* A iron_condor XLF (financials, XLF/1, USD): open −0.12 (first limit −0.13), close +0.06 (limit
  +0.05) take_profit, 2.60 commission each way, 01-06 10:00 → 01-08 10:00; polls P&L/sh +0.02,
  +0.05, −0.01. Net = −(−12 + 6) − 5.20 = +0.80; slippage +1 +1 = 2.00; MFE +5, MAE −1; 48 h.
* B iron_condor XLE (energy, XLE/2, USD): open −0.10 (limit −0.10), close +0.30 (limit +0.25)
  stop, 01-07 10:00 → 01-09 14:00; polls −0.08, −0.15. Net = −(−10 + 30) − 5.20 = −25.20;
  slippage 0 + 5 = 5.00; MFE −8, MAE −15; 52 h. Its ORDER carries only the regime text.
* C credit_spread TD.TO (financials, XLF/1, CAD) ×2: open −0.20 (limit −0.22), close +0.05
  (limit +0.05) manage_dte, 3.00 commission each way, 01-06 11:00 → 01-12 11:00; polls +0.10,
  −0.02. Net = −(−40 + 10) − 6 = +24.00; gross 30.00; slippage 0.02 × 200 = 4.00; MFE +20,
  MAE −4; 144 h.
* D credit_spread IWM (USD): opened 01-12, still open.
* E iron_condor.shadow XLF: open −0.15, close +0.05 take_profit: net = 15 − 5 − 5.20 = +4.80.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from seeker.agents.risk_guard import Caps
from seeker.cli.app import app
from seeker.core.journal import Journal
from seeker.reports.summary import build_report, regime_key
from tests.support import ROOT

NY = ZoneInfo("America/New_York")
CAPS = Caps(per_trade=100.0, portfolio=250.0, sector=100.0, cluster=125.0, underlying=50.0)
RANGE = {"trend": "none", "structure": "range", "ivr": "high", "term": "contango", "skew": "normal"}
BREAKOUT = {
    "trend": "up",
    "structure": "breakout_up",
    "ivr": "high",
    "term": "contango",
    "skew": "marked",
}
RANGE_KEY = "no trend, range, IVR high, contango, skew normal"
BREAKOUT_KEY = "trend up, breakout up, IVR high, contango, skew marked"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Return 2026-01-<day> hour:minute in New York."""
    return datetime(2026, 1, day, hour, minute, tzinfo=NY)


def condor(k: float) -> list[dict[str, Any]]:
    """Return iron condor legs around `k` (0.50 wings), expiring 2026-02-20."""
    return [
        {"right": "P", "strike": k - 3, "expiry": "2026-02-20", "action": "SELL", "ratio": 1},
        {"right": "P", "strike": k - 3.5, "expiry": "2026-02-20", "action": "BUY", "ratio": 1},
        {"right": "C", "strike": k + 3, "expiry": "2026-02-20", "action": "SELL", "ratio": 1},
        {"right": "C", "strike": k + 3.5, "expiry": "2026-02-20", "action": "BUY", "ratio": 1},
    ]


class Scribe:
    """Write one strategy's journal lines at chosen times through the real Journal."""

    def __init__(self, root: Path, name: str) -> None:
        self.name = name.removesuffix(".shadow")
        self.now = at(5, 9, 30)
        self.journal = Journal(root, name, lambda: self.now)
        self.orders: dict[str, int] = {}
        self.info: dict[str, dict[str, Any]] = {}

    def write(self, when: datetime, event: str, **fields: Any) -> dict[str, Any]:
        """Write one line at `when`."""
        self.now = when
        return self.journal.write(event, **fields)

    def open(
        self,
        pid: str,
        when: datetime,
        listing: str,
        symbol: str,
        sector: str,
        cluster: str,
        currency: str,
        legs: list[dict[str, Any]],
        limit: float,
        risk: float,
        qty: int = 1,
        meta: dict[str, Any] | None = None,
        spot: float = 43.0,
    ) -> str:
        """Write the DECISION and ORDER that open a position; return the order id."""
        self.info[pid] = {
            "underlying": listing,
            "symbol": symbol,
            "sector": sector,
            "cluster": cluster,
            "currency": currency,
            "legs": legs,
            "multiplier": 100,
        }
        self.write(
            when,
            "DECISION",
            decision_id=f"{pid}-d",
            strategy=self.name,
            underlying=listing,
            outcome="order",
            reason="all vetoes passed; sending",
            blocked_by=None,
            position_id=pid,
            features={"spot": spot},
            setup={"legs": legs},
        )
        return self.order(pid, when, "open", limit, qty, risk=risk, meta=meta or {})

    def order(
        self, pid: str, when: datetime, intent: str, limit: float, qty: int, **kw: Any
    ) -> str:
        """Write one ORDER line (and its 'submitted' status); return the order id."""
        n = self.orders.get(pid, 0) + 1
        self.orders[pid] = n
        oid = f"{pid}.{n}"
        risk = kw.pop("risk", 45.2)
        self.write(
            when,
            "ORDER",
            order_id=oid,
            order_ref=f"seeker:{self.name}:{pid}:{intent}",
            strategy=self.name,
            position_id=pid,
            intent=intent,
            qty=qty,
            limit_price=limit,
            ladder=[limit],
            max_loss=risk,
            risk=risk,
            risk_currency="USD",
            mid=limit,
            natural=limit,
            reason=kw.get("exit_rule", "setup"),
            **self.info[pid],
            **kw,
        )
        self.write(when, "ORDER_STATUS", order_id=oid, position_id=pid, status="submitted")
        return oid

    def fill(
        self,
        pid: str,
        oid: str,
        when: datetime,
        intent: str,
        price: float,
        commission: float,
        qty: int = 1,
        exit_rule: str | None = None,
        legs: list[dict[str, Any]] | None = None,
    ) -> None:
        """Write one combo FILL, its per-leg FILL lines (as Execution does) and the status."""
        fill_id = f"F-{oid}-{when:%d%H%M}"
        currency = self.info[pid]["currency"]
        self.write(
            when,
            "FILL",
            fill_id=fill_id,
            order_id=oid,
            position_id=pid,
            intent=intent,
            kind="combo",
            fill_price=price,
            qty=qty,
            commission=commission,
            currency=currency,
            exit_rule=exit_rule,
            legs=legs or [],
        )
        for i, leg in enumerate(legs or []):
            self.write(
                when,
                "FILL",
                fill_id=f"{fill_id}.{i + 1}",
                order_id=oid,
                position_id=pid,
                intent=intent,
                kind="leg",
                combo_fill_id=fill_id,
                fill_price=leg.get("price"),
                currency=currency,
                right=leg["right"],
                strike=leg["strike"],
                expiry=leg["expiry"],
                action=leg["action"],
                qty=qty * int(leg.get("ratio", 1)),
                commission=leg.get("commission"),
            )
        self.write(when, "ORDER_STATUS", order_id=oid, position_id=pid, status="filled")

    def close(
        self,
        pid: str,
        when: datetime,
        limit: float,
        price: float,
        commission: float,
        rule: str,
        qty: int = 1,
    ) -> None:
        """Write a closing ORDER and its FILL."""
        oid = self.order(pid, when, "close", limit, qty, exit_rule=rule)
        self.fill(pid, oid, when, "close", price, commission, qty, exit_rule=rule)

    def poll(self, pid: str, when: datetime, pnl_unit: float, score: float = 60.0) -> None:
        """Write a CONFIDENCE line (a management poll)."""
        self.write(
            when,
            "CONFIDENCE",
            strategy=self.name,
            position_id=pid,
            pnl_unit=pnl_unit,
            dte=40,
            spot=43.0,
            score=score,
            components={},
            reassuring=["40 DTE"],
            worrying=[],
        )

    def refuse(self, when: datetime, listing: str, by: str, reason: str) -> None:
        """Write a no_trade DECISION."""
        self.write(
            when,
            "DECISION",
            decision_id=f"d-{when:%d%H%M}",
            strategy=self.name,
            underlying=listing,
            outcome="no_trade",
            reason=reason,
            blocked_by=by,
            position_id=None,
        )


def write_journals(root: Path) -> None:
    """Write the five positions of the module docstring."""
    ic = Scribe(root, "iron_condor")
    ic.refuse(at(6, 9, 45), "XLE", "liquidity", "leg spread 0.08 > 0.05")
    oid = ic.open(
        "ic-A",
        at(6, 10),
        "XLF",
        "XLF",
        "financials",
        "XLF/1",
        "USD",
        condor(43),
        -0.13,
        45.2,
        meta={
            "regime_labels": RANGE,
            "regime": "no trend, range, IVR 61 high, contango, skew normal",
        },
    )
    ic.fill("ic-A", oid, at(6, 10), "open", -0.12, 2.60)
    oid = ic.open(
        "ic-B",
        at(7, 10),
        "XLE",
        "XLE",
        "energy",
        "XLE/2",
        "USD",
        condor(80),
        -0.10,
        45.2,
        meta={"regime": "no trend, range, IVR 58 high, contango, skew normal"},
    )
    ic.fill("ic-B", oid, at(7, 10), "open", -0.10, 2.60)
    for when, pnl in ((at(6, 12), 0.02), (at(7, 10), 0.05), (at(7, 15), -0.01)):
        ic.poll("ic-A", when, pnl)
    ic.close("ic-A", at(8, 10), 0.05, 0.06, 2.60, "take_profit")
    ic.poll("ic-B", at(8, 10), -0.08)
    ic.poll("ic-B", at(9, 10), -0.15)
    ic.refuse(at(9, 10), "XLF", "risk_guard", "sector cap")
    ic.close("ic-B", at(9, 14), 0.25, 0.30, 2.60, "stop")

    cs = Scribe(root, "credit_spread")
    legs = condor(30)[:2]
    oid = cs.open(
        "cs-C",
        at(6, 11),
        "TD.TO",
        "TD",
        "financials",
        "XLF/1",
        "CAD",
        legs,
        -0.22,
        40.0,
        qty=2,
        meta={"regime_labels": BREAKOUT},
    )
    cs.fill("cs-C", oid, at(6, 11), "open", -0.20, 3.00, qty=2)
    cs.poll("cs-C", at(7, 11), 0.10)
    cs.refuse(at(8, 10), "TD.TO", "event_risk", "CPI J-1")
    cs.poll("cs-C", at(8, 11), -0.02)
    oid = cs.open(
        "cs-D",
        at(12, 10),
        "IWM",
        "IWM",
        "broad",
        "IWM/3",
        "USD",
        condor(200)[:2],
        -0.15,
        45.0,
        meta={"regime_labels": RANGE},
    )
    cs.fill("cs-D", oid, at(12, 10), "open", -0.15, 1.30)
    # journals are in time order (the writer's clock never goes back): cs-C closes after
    cs.close("cs-C", at(12, 11), 0.05, 0.05, 3.00, "manage_dte", qty=2)

    sh = Scribe(root, "iron_condor.shadow")
    oid = sh.open(
        "ic-E",
        at(6, 10, 30),
        "XLF",
        "XLF",
        "financials",
        "XLF/1",
        "USD",
        condor(43),
        -0.15,
        45.2,
        meta={"regime_labels": RANGE},
    )
    sh.fill("ic-E", oid, at(6, 10, 30), "open", -0.15, 2.60)
    sh.close("ic-E", at(7, 10, 30), 0.05, 0.05, 2.60, "take_profit")
    for scribe in (ic, cs, sh):
        scribe.journal.close()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reports") / "logs"
    write_journals(root)
    return root


def cli(*args: str) -> Any:
    """Run a seeker command in this process (the real command, without a new interpreter)."""
    return CliRunner().invoke(app, list(args))


def row(rows: list[dict[str, Any]], name: str, value: str, ccy: str) -> dict[str, Any]:
    return next(r for r in rows if r[name] == value and r["currency"] == ccy)


def test_per_strategy_figures_match_the_hand_computation(logs: Path) -> None:
    report = build_report(logs, CAPS).as_dict()
    ic = row(report["rows"], "strategy", "iron_condor", "USD")
    assert (ic["trades"], ic["wins"], ic["losses"], ic["win_rate"]) == (2, 1, 1, 0.5)
    assert ic["net_pnl"] == pytest.approx(0.80 - 25.20)
    assert ic["commissions"] == pytest.approx(10.40)
    assert ic["gross_pnl"] == pytest.approx(6.00 - 20.00)
    assert ic["average"] == pytest.approx(-12.20)
    assert (ic["max_win"], ic["max_loss"]) == (pytest.approx(0.80), pytest.approx(-25.20))
    assert ic["max_drawdown"] == pytest.approx(25.20)  # +0.80 peak, then −24.40
    assert ic["avg_slippage"] == pytest.approx((2.00 + 5.00) / 2)
    assert ic["avg_mfe"] == pytest.approx((5.00 - 8.00) / 2)
    assert ic["avg_mae"] == pytest.approx((-1.00 - 15.00) / 2)
    assert ic["avg_hours"] == pytest.approx((48 + 52) / 2)
    assert ic["exits"] == {"stop": 1, "take_profit": 1}
    assert ic["exit_shares"] == {"stop": 0.5, "take_profit": 0.5}
    assert (ic["orders"], ic["fills"], ic["decisions"]) == (4, 4, 4)
    assert ic["refusals"] == {"liquidity": 1, "risk_guard": 1}
    assert ic["open_positions"] == 0 and not ic["shadow"]

    cad = row(report["rows"], "strategy", "credit_spread", "CAD")
    assert (cad["trades"], cad["wins"], cad["net_pnl"]) == (1, 1, pytest.approx(24.00))
    assert (cad["gross_pnl"], cad["commissions"]) == (pytest.approx(30.00), pytest.approx(6.00))
    assert cad["avg_slippage"] == pytest.approx(4.00)
    assert (cad["avg_mfe"], cad["avg_mae"]) == (pytest.approx(20.00), pytest.approx(-4.00))
    assert cad["avg_hours"] == pytest.approx(144.0)
    assert cad["exit_shares"] == {"manage_dte": 1.0}
    assert cad["refusals"] == {"event_risk": 1}
    usd = row(report["rows"], "strategy", "credit_spread", "USD")
    assert (usd["trades"], usd["open_positions"]) == (0, 1)


def test_breakdowns_by_regime_sector_cluster_and_currency(logs: Path) -> None:
    real = build_report(logs, CAPS).as_dict()["real"]
    assert real["trades"] == 3
    # B's ORDER has only the regime text: its IV-rank number is dropped, so it joins A's labels
    # trades keep their full labels; reports group by the selection's class (shape · IV rank)
    assert {t["regime"] for t in real["trade_list"]} == {RANGE_KEY, BREAKOUT_KEY}
    regimes = {(r["regime"], r["currency"]): r for r in real["by_regime"]}
    assert set(regimes) == {("range · IVR high", "USD"), ("trend up · IVR high", "CAD")}
    assert regimes[("range · IVR high", "USD")]["trades"] == 2
    assert regimes[("range · IVR high", "USD")]["net_pnl"] == pytest.approx(-24.40)
    assert regimes[("trend up · IVR high", "CAD")]["net_pnl"] == pytest.approx(24.00)
    crossed = {
        (r["strategy_regime"], r["currency"]): r["trades"] for r in real["by_strategy_regime"]
    }
    assert sum(crossed.values()) == 3 and all(" · " in k for k, _ in crossed)
    sectors = {(r["sector"], r["currency"]): r["net_pnl"] for r in real["by_sector"]}
    assert sectors == {
        ("energy", "USD"): pytest.approx(-25.20),
        ("financials", "CAD"): pytest.approx(24.00),
        ("financials", "USD"): pytest.approx(0.80),
    }
    clusters = {(r["cluster"], r["currency"]): r["trades"] for r in real["by_cluster"]}
    assert clusters == {("XLE/2", "USD"): 1, ("XLF/1", "CAD"): 1, ("XLF/1", "USD"): 1}
    ccys = {r["currency"]: (r["trades"], r["win_rate"], r["net_pnl"]) for r in real["by_currency"]}
    assert ccys == {"CAD": (1, 1.0, pytest.approx(24.00)), "USD": (2, 0.5, pytest.approx(-24.40))}
    fin = row(real["by_sector"], "sector", "financials", "USD")
    assert fin["avg_slippage"] == pytest.approx(2.00) and fin["avg_hours"] == pytest.approx(48)


def test_shadow_results_stay_apart(logs: Path) -> None:
    report = build_report(logs, CAPS).as_dict()
    shadow = report["shadow"]
    assert shadow["trades"] == 1
    [only] = shadow["by_strategy"]
    assert (only["strategy"], only["net_pnl"]) == ("iron_condor.shadow", pytest.approx(4.80))
    assert all(t["strategy"] != "iron_condor.shadow" for t in report["real"]["trade_list"])
    sh_row = row(report["rows"], "strategy", "iron_condor.shadow", "USD")
    assert sh_row["shadow"] and sh_row["trades"] == 1


def test_since_bounds_the_period_by_close_time(logs: Path) -> None:
    report = build_report(logs, CAPS, since=at(9, 0)).as_dict()
    assert {t["position_id"] for t in report["real"]["trade_list"]} == {"ic-B", "cs-C"}
    ic = row(report["rows"], "strategy", "iron_condor", "USD")
    assert (ic["trades"], ic["net_pnl"], ic["max_drawdown"]) == (1, -25.2, 25.2)
    assert (ic["decisions"], ic["refusals"], ic["orders"]) == (1, {"risk_guard": 1}, 1)
    assert report["shadow"]["trades"] == 0


def test_rule_violations_are_zero_and_the_audit_is_not_vacuous(logs: Path) -> None:
    assert build_report(logs, CAPS).real.violations == []
    tight = Caps(per_trade=42.0, portfolio=250.0, sector=100.0, cluster=125.0, underlying=50.0)
    found = build_report(logs, tight).as_dict()["real"]["violations"]
    assert {(v["position_id"], v["cap"]) for v in found} == {
        ("ic-A", "per_trade"),
        ("ic-B", "per_trade"),
        ("cs-D", "per_trade"),
    }


def test_regime_key_drops_the_measure() -> None:
    assert regime_key(RANGE) == RANGE_KEY
    assert regime_key(None, "no trend, range, IVR 61 high, contango, skew normal") == RANGE_KEY
    assert regime_key(None, None) == "unknown"


def test_summary_command_json_and_tables(logs: Path) -> None:
    config = str(ROOT / "config" / "seeker.toml")
    res = cli("summary", "--json", "--log-dir", str(logs), "--config", config)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["caps"]["per_trade"] == 100.0 and data["real"]["violations"] == []
    assert row(data["rows"], "strategy", "iron_condor", "USD")["net_pnl"] == -24.4
    since = cli(
        "summary",
        "--json",
        "--since",
        "2026-01-09",
        "--log-dir",
        str(logs),
        "--config",
        config,
    )
    assert json.loads(since.stdout)["real"]["trades"] == 2
    res = cli("summary", "--log-dir", str(logs), "--config", config)
    assert res.exit_code == 0, res.stderr
    text = res.stdout
    for part in ("by regime at entry", "by sector", "by cluster", "by currency", "trade quality"):
        assert part in text
    assert "rule violations: 0" in text
    assert "shadow (hypothetical fills, never sent)" in text
    assert "take_profit 50 % (1)" in text and "stop 50 % (1)" in text
    assert "credit_spread" in text and "-24.40" in text and "24.00" in text
    bad = cli("summary", "--since", "yesterday", "--log-dir", str(logs))
    assert bad.exit_code == 2 and "--since" in bad.stderr
