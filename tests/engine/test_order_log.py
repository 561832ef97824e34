"""The plain log says what became of every order: real executors on the real simulated market.

Each test works orders through the real Executor (or ShadowExecutor) and SimBroker, journaling
through ``Services.journal`` — so every line passes ``Services._remember`` and the order log —
and reads the messages ``seeker run`` would print.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from seeker.config.loading import validate_config
from seeker.core.execution import Executor, OrderPlan, ShadowExecutor, combo_mid, combo_natural
from seeker.core.journal import read_events
from seeker.core.models import Leg, OptionContract
from seeker.core.tz import MARKET_TZ
from seeker.engine.wiring import build_sim_services
from tests.support import ROOT, seeker, shipped, strategy_config_models

LISTING = "XLF"


class Run:
    """Simulated services at 10:30 on a session, with the plain log's messages kept."""

    def __init__(self, tmp_path: Path) -> None:
        cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
        self.messages: list[str] = []
        self.services = build_sim_services(
            cfg, tmp_path / "logs", days=5, emit=self.messages.append
        )
        assert self.services.clock.sleep_until(datetime(2026, 1, 5, 10, 30, tzinfo=MARKET_TZ))
        self.seq = 0

    def executor(self, name: str = "iron_condor", shadow: bool = False) -> Executor:
        s = self.services
        if shadow:
            return ShadowExecutor(
                name,
                s.broker,
                s.clock,
                s.journal(f"{name}.shadow"),
                60.0,
                lambda _l: None,
                commission=lambda plan: 2.60 * plan.qty,
            )
        return Executor(name, s.broker, s.clock, s.journal(name), 60.0, lambda _l: None)

    def condor(self) -> tuple[tuple[Leg, ...], float, float]:
        """Return a condor's legs, mid and natural (net debit per share)."""
        b = self.services.broker
        today = self.services.clock.now().date()
        expiry = next(e for e in b.expiries(LISTING) if (e - today).days > 35)
        spot = b.underlying_quote(LISTING).mid
        chain = b.option_chain(LISTING, [expiry], (spot * 0.8, spot * 1.2))
        puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot * 0.95]
        calls = [q for q in chain.side(expiry, "C") if q.contract.strike > spot * 1.05]
        quotes = [puts[-1], puts[-2], calls[0], calls[1]]
        actions = ("SELL", "BUY", "SELL", "BUY")
        legs = tuple(Leg(q.contract, a) for q, a in zip(quotes, actions, strict=True))
        return legs, combo_mid(legs, quotes), combo_natural(legs, quotes)

    def plan(
        self, legs: tuple[Leg, ...], ladder: tuple[float, ...], qty: int = 1, natural: float = 0.0
    ) -> OrderPlan:
        self.seq += 1
        pid = f"ic-20260105-{self.seq:03d}"
        return OrderPlan(
            position_id=pid,
            order_id=f"{pid}.1",
            intent="open",
            listing_id=LISTING,
            legs=legs,
            qty=qty,
            ladder=ladder,
            cancel_when_done=True,
            fields={"meta": {"label": "IC XLF test"}, "natural": natural, "currency": "USD"},
        )

    def said(self, pattern: str) -> list[str]:
        return [m for m in self.messages if re.search(pattern, m)]


@pytest.fixture()
def run(tmp_path: Path) -> Run:
    return Run(tmp_path)


def test_a_cancelled_order_says_why_and_how_much_filled(run: Run) -> None:
    legs, mid, _ = run.condor()
    far = round(mid - 0.50, 2)  # a credit 0.50 $ beyond the mid: never filled
    plan = run.plan(legs, (far, far))
    run.executor().work(plan)
    assert run.said(rf"iron_condor: opening {plan.position_id} IC XLF test x1, limit {far:+.2f}")
    (line,) = run.said(rf"{re.escape(plan.order_id)} .* cancelled")
    assert line == (
        f"iron_condor: {plan.order_id} (open {plan.position_id}) cancelled, 0 of 1 filled: "
        "timeout: unfilled after the last price step"
    )


def test_a_rejected_order_says_why(run: Run) -> None:
    legs, mid, _ = run.condor()
    ghost = OptionContract(LISTING, date(2026, 2, 21), 999.0, "C")  # a Saturday: no such option
    plan = run.plan((*legs[:3], Leg(ghost, "BUY")), (round(mid, 2),))
    run.executor().work(plan)
    (line,) = run.said(rf"{re.escape(plan.order_id)} .*rejected")
    assert line.startswith(f"iron_condor: {plan.order_id} (open {plan.position_id}) rejected: ")
    assert "no such contract" in line
    statuses = read_events(run.services.log_root / "iron_condor", ["ORDER_STATUS"])
    assert [s["status"] for s in statuses if s["order_id"] == plan.order_id] == [
        "submitted",
        "rejected",
    ]


def test_an_order_not_sent_is_a_rejection_with_the_broker_s_reason(run: Run) -> None:
    legs, mid, _ = run.condor()
    run.services.broker.close()
    plan = run.plan(legs, (round(mid, 2),))
    run.executor().work(plan)
    (line,) = run.said("rejected")
    assert line.endswith("rejected: not sent: simulated broker not connected")


def test_fills_and_partial_fills_are_said_with_quantity_and_price(run: Run) -> None:
    legs, mid, natural = run.condor()
    plan = run.plan(legs, (round(natural + 0.05, 2),))
    run.executor().work(plan)
    (line,) = run.said(rf"opened {plan.position_id}")
    oid = re.escape(plan.order_id)
    assert re.fullmatch(
        rf"iron_condor: opened {plan.position_id} x1 at [+-]\d+\.\d\d \({oid}\)", line
    )
    limit = round(mid + 0.75 * (natural - mid), 2)  # fills some of 5 units now and then
    for _ in range(20):
        run.executor().work(run.plan(legs, (limit,), qty=5))
        if run.said("partially filled"):
            break
    partial = run.said("partially filled")
    assert partial and re.search(r"partially filled: [1-4] of 5 at [+-]\d+\.\d\d$", partial[0])


def test_shadow_lines_are_marked_and_say_nothing_was_sent(run: Run) -> None:
    legs, mid, natural = run.condor()
    plan = run.plan(legs, (round(mid, 2), round(natural, 2)), natural=natural)
    run.executor(shadow=True).work(plan)
    shadow = [m for m in run.messages if m.startswith("iron_condor [shadow]: ")]
    assert len(shadow) == 2, run.messages
    assert "opening" in shadow[0]
    assert f"opened {plan.position_id} x1" in shadow[1]
    assert shadow[1].endswith("hypothetical fill at the natural, nothing was sent")
    assert not [m for m in run.messages if m.startswith("iron_condor: ")]


def test_the_readme_run_says_what_became_of_every_order(tmp_path: Path) -> None:
    """`seeker run iron_condor --days N`: each ORDER has one outcome line in the plain log."""
    logs = tmp_path / "logs"
    res = seeker("run", "iron_condor", "--days", "30", "--log-dir", str(logs), cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    out = res.stdout
    orders = read_events(logs / "iron_condor", ["ORDER"])
    assert orders
    outcomes: dict[str, str] = {}
    for o in orders:
        oid, pid = o["order_id"], o["position_id"]
        found = [
            ln
            for ln in out.splitlines()
            if f"({oid})" in ln or ln.split(": ", 1)[-1].startswith(f"{oid} (")
        ]
        assert len(found) == 1, (oid, found)
        kind = re.search(r"(opened|filled|partially filled|cancelled|rejected)", found[0])
        assert kind is not None, found[0]
        outcomes[oid] = kind.group(1)
        assert pid in found[0]
    assert "cancelled" in outcomes.values()  # the README's run has unfilled orders too
    closes = [o for o in orders if o["intent"] == "close"]
    assert closes and all(f"closing {o['position_id']} x" in out for o in closes)
    posts = read_events(logs / "iron_condor", ["POST_TRADE"])
    assert all(f"closed {p['position_id']}, P&L " in out for p in posts)


def test_order_risk_lines_are_said_and_others_are_not(tmp_path: Path) -> None:
    from seeker.core.journal import Journal
    from seeker.engine.order_log import OrderLog

    journal = Journal(tmp_path, "credit_spread", lambda: datetime(2026, 1, 5, 10, tzinfo=MARKET_TZ))
    log = OrderLog()

    def say(rule: str, detail: str) -> str | None:
        line = journal.record(
            "RISK", strategy="credit_spread", position_id="cs-1", rule=rule, detail=detail
        )
        return log.describe("credit_spread", line)

    assert say("checklist", "entry not sent: outside regular trading hours") == (
        "credit_spread: cs-1: entry not sent: outside regular trading hours"
    )
    assert say("fx_conversion", "USD.CAD BUY 150 filled at 1.35120 (0.20 pip vs mid)") == (
        "credit_spread: cs-1: currency conversion for it: USD.CAD BUY 150 filled at 1.35120 "
        "(0.20 pip vs mid)"
    )
    assert say("data", "no quote") is None
    decision = journal.record("DECISION", outcome="no_trade", blocked_by="liquidity")
    assert log.describe("credit_spread", decision) is None
