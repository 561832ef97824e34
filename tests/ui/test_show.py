"""`seeker show POSITION_ID` on journals written by hand (known IVs) and on a real simulated run."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from seeker.config.loading import load_config
from seeker.core.calendar import expiry_close, years_between
from seeker.core.journal import read_events
from seeker.core.pricing import bs_greeks, bs_price, prob_touch
from seeker.ui.greeks import structure_greeks
from seeker.ui.position import load_position
from seeker.ui.show import render_position
from tests.reports.test_reports import Scribe, at, cli, condor
from tests.support import SHIPPED, seeker, shipped, small, strategy_config_models, write_config

SPOT_IN, SPOT_NOW = 43.0, 45.6
IVS = {("P", 40.0): 0.25, ("P", 39.5): 0.27, ("C", 46.0): 0.22, ("C", 46.5): 0.21}


@pytest.fixture(scope="module")
def cfg() -> Any:
    return load_config(SHIPPED, strategy_config_models())


def leg_prices(legs: list[dict[str, Any]], spot: float, when: Any, r: float, q: float) -> list:
    """Return FILL legs priced with Black-Scholes at the known IVs (so IVs can be implied back)."""
    out = []
    for leg in legs:
        t = years_between(when, expiry_close(date(2026, 2, 20)))
        iv = IVS[(leg["right"], leg["strike"])]
        price = float(bs_price(spot, leg["strike"], t, r, iv, leg["right"] == "C", q))
        out.append({**leg, "qty": 1, "price": round(price, 6)})
    return out


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory, cfg: Any) -> Path:
    root = tmp_path_factory.mktemp("show") / "logs"
    r, q = cfg.rates["USD"], cfg.listings()["XLF"].dividend_yield
    ic = Scribe(root, "iron_condor")
    legs = condor(43)
    meta = {
        "label": "IC XLF 2026-02-20 39.5/40P 46/46.5C",
        "dte": 45,
        "width": 0.5,
        "short_put_iv": 0.25,
        "short_call_iv": 0.22,
        "regime": "no trend, range, IVR 60 high",
    }
    oid = ic.open(
        "ic-20260106-001",
        at(6, 10),
        "XLF",
        "XLF",
        "financials",
        "XLF/1",
        "USD",
        legs,
        -0.13,
        45.2,
        meta=meta,
        spot=SPOT_IN,
    )
    ic.fill(
        "ic-20260106-001",
        oid,
        at(6, 10),
        "open",
        -0.12,
        2.60,
        legs=leg_prices(legs, SPOT_IN, at(6, 10), r, q),
    )
    for day, score, pnl in ((7, 70.0, 0.02), (8, 55.0, -0.03)):
        ic.poll("ic-20260106-001", at(day, 10), pnl, score)
    ic.write(
        at(9, 10),
        "CONFIDENCE",
        strategy="iron_condor",
        position_id="ic-20260106-001",
        pnl_unit=-0.09,
        dte=42,
        spot=SPOT_NOW,
        score=38.0,
        components={},
        reassuring=["42 DTE"],
        worrying=["Δ 0.31", "Dist 0.3×ATR"],
    )
    ic.write(
        at(9, 10),
        "RISK",
        strategy="iron_condor",
        position_id="ic-20260106-001",
        rule="event_hold",
        detail="CPI J-1: held",
    )
    # a second position whose management poll journaled its quotes with greeks
    oid = ic.open(
        "ic-20260107-001",
        at(7, 11),
        "XLF",
        "XLF",
        "financials",
        "XLF/1",
        "USD",
        condor(43),
        -0.12,
        45.2,
        meta={"dte": 44},
    )
    ic.fill("ic-20260107-001", oid, at(7, 11), "open", -0.12, 2.60)
    quotes = [
        {
            **leg,
            "iv": 0.2,
            "delta": d,
            "gamma": 0.05,
            "vega": 0.04,
            "theta": -3.65,
            "underlying_price": 43.2,
        }
        for leg, d in zip(condor(43), (-0.15, -0.12, 0.14, 0.11), strict=True)
    ]
    ic.write(
        at(8, 11),
        "CONFIDENCE",
        strategy="iron_condor",
        position_id="ic-20260107-001",
        pnl_unit=0.01,
        dte=43,
        spot=43.2,
        score=66.0,
        components={},
        reassuring=[],
        worrying=[],
        quotes=quotes,
    )
    ic.close("ic-20260107-001", at(9, 11), 0.05, 0.06, 2.60, "take_profit")
    oid = ic.open(
        "ic-20260108-001",
        at(8, 10),
        "XLF",
        "XLF",
        "financials",
        "XLF/1",
        "USD",
        condor(44),
        -0.12,
        45.2,
    )
    ic.write(
        at(8, 10, 4),
        "ORDER_STATUS",
        order_id=oid,
        position_id="ic-20260108-001",
        status="cancelled",
        reason="timeout",
    )
    ic.journal.close()
    return root


def text_of(parts: list[Any], width: int = 160) -> str:
    console = Console(record=True, width=width, file=open("/dev/null", "w"))  # noqa: SIM115
    for part in parts:
        console.print(part)
    return console.export_text()


def test_show_reads_legs_greeks_touch_payoff_confidence_and_orders(logs: Path, cfg: Any) -> None:
    record = load_position(logs, "ic-20260106-001")
    assert record is not None
    text = text_of(render_position(record, cfg, width=160))
    # legs and strikes, with IVs named by source: entry quotes for shorts, implied for wings
    for strike in ("39.5", "40", "46", "46.5"):
        assert f"│ {strike:>6} │" in text
    assert "25.0 % (entry quote (short_put_iv))" in text
    assert "27.0 % (implied from fill" in text and "21.0 % (implied from fill" in text
    # greeks: recomputed at the last journaled spot from the last known IVs, and said so
    assert f"recomputed with Black-Scholes at spot {SPOT_NOW:g}" in text
    r, q = cfg.rates["USD"], cfg.listings()["XLF"].dividend_yield
    expiry = expiry_close(record.position.expiry)
    t = years_between(at(9, 10), expiry)
    delta = 0.0
    for leg in record.position.legs:
        k, right = leg.contract.strike, leg.contract.right
        g = bs_greeks(SPOT_NOW, k, t, r, IVS[(right, k)], right == "C", q)
        delta += leg.sign * float(g["delta"])
    greeks = structure_greeks(record, r, q)
    assert greeks is not None and greeks.total["delta"] == pytest.approx(delta, abs=1e-6)
    assert f"{delta:+.3f}" in text and f"{delta * 100:+.3f}" in text
    # probability of touch of each short strike from the last spot
    for k, iv in ((40.0, 0.25), (46.0, 0.22)):
        p = float(prob_touch(SPOT_NOW, k, t, r, iv, q))
        assert f"{100 * p:.0f} %" in text
    assert "46C" in text and "40P" in text
    # the payoff: expiry, T+0 and T+X curves with their legend and the method
    assert "█ at expiry (2026-02-20)" in text and "* T+0 (2026-01-09 10:00)" in text
    assert "+ T+" in text and "repriced with Black-Scholes at the entry IVs" in text
    assert "┬" in text and "S" in text
    # confidence history and the latest badges
    assert "score 70 → 38" in text and "3 polls from 2026-01-07 10:00 to 2026-01-09 10:00" in text
    assert "✓ 42 DTE" in text and "✗ Δ 0.31" in text and "✗ Dist 0.3×ATR" in text
    # every decision and order line of the position
    history = text.split("decisions and orders")[1]
    for part in ("DECISION", "ORDER ", "ORDER_STATUS", "FILL", "RISK", "event_hold"):
        assert part in history


def test_show_uses_journaled_quotes_when_present(logs: Path, cfg: Any) -> None:
    record = load_position(logs, "ic-20260107-001")
    assert record is not None
    greeks = structure_greeks(record, 0.04, 0.0)
    assert greeks is not None and greeks.source.startswith("journaled quotes of 2026-01-08 11:00")
    # SELL −0.15, BUY −0.12, SELL +0.14, BUY +0.11 → 0.15 − 0.12 − 0.14 + 0.11 = 0.00
    assert greeks.total["delta"] == pytest.approx(0.0, abs=1e-12)
    assert greeks.total["theta"] == pytest.approx(0.0, abs=1e-12)
    text = text_of(render_position(record, cfg, width=160))
    assert "source: journaled quotes of 2026-01-08 11:00" in text
    assert "closed, 0/1 open" in text and "take_profit" in text
    assert "20.0 % (journaled quote" in text


def test_a_position_never_filled_says_so(logs: Path, cfg: Any) -> None:
    record = load_position(logs, "ic-20260108-001")
    assert record is not None
    text = text_of(render_position(record, cfg, width=160))
    assert "never filled (cancelled): no greeks, touch odds or payoff" in text
    assert "cancelled (timeout)" in text and "at expiry" not in text


def test_unknown_id_exits_2_with_close_matches(logs: Path) -> None:
    res = cli("show", "ic-20260106-01", "--log-dir", str(logs))
    assert res.exit_code == 2
    assert "unknown position 'ic-20260106-01'" in res.stderr
    assert "ic-20260106-001" in res.stderr


def test_show_a_position_of_a_real_simulated_run(tmp_path: Path) -> None:
    config = write_config(tmp_path, small(shipped(), ["INTC", "SLV"]))
    logs = tmp_path / "logs"
    run = seeker(
        "run",
        "iron_condor",
        "--config",
        str(config),
        "--days",
        "5",
        "--log-dir",
        str(logs),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    fills = [f for f in read_events(logs / "iron_condor", ["FILL"]) if f["intent"] == "open"]
    assert fills, "the run opened nothing"
    pid = fills[0]["position_id"]
    res = cli("show", pid, "--config", str(config), "--log-dir", str(logs))
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    for part in (
        "legs and strikes",
        "greeks of the structure",
        "probability of touch",
        "payoff",
        "confidence history",
        "decisions and orders",
        pid,
    ):
        assert part in out
    assert "source: recomputed with Black-Scholes" in out


def test_a_closed_position_shows_entry_and_exit_leg_prices(tmp_path: Path, cfg: Any) -> None:
    """The legs table reads the combo FILL lines; the per-leg lines are listed under them."""
    r, q = cfg.rates["USD"], cfg.listings()["XLF"].dividend_yield
    ic = Scribe(tmp_path, "iron_condor")
    legs = condor(43)
    pid = "ic-20260106-001"
    oid = ic.open(pid, at(6, 10), "XLF", "XLF", "financials", "XLF/1", "USD", legs, -0.13, 45.2)
    opened = leg_prices(legs, SPOT_IN, at(6, 10), r, q)
    ic.fill(pid, oid, at(6, 10), "open", -0.12, 2.60, legs=opened)
    closing = [
        {**leg, "action": "BUY" if leg["action"] == "SELL" else "SELL"}
        for leg in leg_prices(legs, SPOT_NOW, at(9, 10), r, q)
    ]
    oid = ic.order(pid, at(9, 10), "close", 0.2, 1, exit_rule="stop")
    ic.fill(pid, oid, at(9, 10), "close", 0.2, 2.60, exit_rule="stop", legs=closing)
    ic.journal.close()
    record = load_position(tmp_path, pid)
    assert record is not None and record.position.open_qty == 0
    assert len(record.lines("FILL")) == 2 and len(record.lines("FILL", legs=True)) == 10
    text = text_of(render_position(record, cfg, width=160))
    legs_part = text.split("legs and strikes")[1].split("greeks of the structure")[0]
    for entry, exit_ in zip(opened, closing, strict=True):
        row = next(x for x in legs_part.splitlines() if f"│ {entry['strike']:>6g} │" in x)
        assert f"{entry['price']:.4f}" in row and f"{exit_['price']:.4f}" in row, row
    history = text.split("decisions and orders")[1]
    assert history.count("   leg ") == 8 and "leg BUY ×1 40P 2026-02-20" in history


def test_greeks_touch_and_curves_use_the_last_ivs_once_they_moved(tmp_path: Path, cfg: Any) -> None:
    """A closing fill priced at IVs 5 points higher: greeks, touch odds and curves all move."""
    r, q = cfg.rates["USD"], cfg.listings()["XLF"].dividend_yield
    ic = Scribe(tmp_path, "iron_condor")
    legs = condor(43)
    pid = "ic-20260106-001"
    oid = ic.open(pid, at(6, 10), "XLF", "XLF", "financials", "XLF/1", "USD", legs, -0.13, 45.2)
    ic.fill(
        pid, oid, at(6, 10), "open", -0.12, 2.60, legs=leg_prices(legs, SPOT_IN, at(6, 10), r, q)
    )
    ic.write(
        at(9, 10),
        "CONFIDENCE",
        strategy="iron_condor",
        position_id=pid,
        spot=SPOT_NOW,
        score=50.0,
        pnl_unit=-0.1,
        dte=42,
        components={},
        reassuring=[],
        worrying=[],
    )
    t = years_between(at(9, 10), expiry_close(date(2026, 2, 20)))
    closing = []
    for leg in legs:
        iv = IVS[(leg["right"], leg["strike"])] + 0.05
        price = float(bs_price(SPOT_NOW, leg["strike"], t, r, iv, leg["right"] == "C", q))
        flip = "BUY" if leg["action"] == "SELL" else "SELL"
        closing.append({**leg, "action": flip, "qty": 1, "price": round(price, 6)})
    oid = ic.order(pid, at(9, 10), "close", 0.3, 1, exit_rule="stop")
    ic.fill(pid, oid, at(9, 10), "close", 0.3, 2.60, exit_rule="stop", legs=closing)
    ic.journal.close()
    record = load_position(tmp_path, pid)
    assert record is not None
    delta = 0.0
    for leg in record.position.legs:
        k, right = leg.contract.strike, leg.contract.right
        g = bs_greeks(SPOT_NOW, k, t, r, IVS[(right, k)] + 0.05, right == "C", q)
        delta += leg.sign * float(g["delta"])
    greeks = structure_greeks(record, r, q)
    assert greeks is not None and greeks.total["delta"] == pytest.approx(delta, abs=1e-4)
    text = " ".join(text_of(render_position(record, cfg, width=160)).split())
    label = "last IVs (2026-01-09 10:00)"
    assert f"at spot {SPOT_NOW:g} (confidence line of 2026-01-09 10:00) at the {label}" in text
    assert f"with the {label} (risk-neutral first passage" in text
    assert f"T+0/T+X repriced with Black-Scholes at the {label}" in text
    p = float(prob_touch(SPOT_NOW, 40.0, t, r, IVS[("P", 40.0)] + 0.05, q))
    assert f"{100 * p:.0f} %" in text
