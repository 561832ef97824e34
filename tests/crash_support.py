"""What must hold in a log folder after any kill and restart (simulated broker): one checker.

Used by the crash tests (``tests/engine/test_crash.py``) and by the kill campaign
(``scripts/kill_campaign.py``). The simulated broker's own record is the truth it checks the
journals against: its execution log (``_seeker/executions.jsonl``) and account snapshot.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.agents.risk_guard import Caps
from seeker.core.journal import SYSTEM_FOLDER, read_events, read_jsonl, strategy_folders
from seeker.core.models import OptionContract, parse_order_ref
from seeker.core.positions import PositionBook
from seeker.core.sim.ledger import SimLedger, leg_bookings, positions_of
from seeker.engine.reconcile import journal_positions
from seeker.reports.audit import cap_violations


def broker_executions(root: Path) -> list[dict[str, Any]]:
    """Return the simulated broker's combo executions (its log, oldest first)."""
    rows = read_jsonl(root / SYSTEM_FOLDER / "executions.jsonl")
    return [r for r in rows if r.get("event") == "EXEC" and r.get("kind") == "combo"]


def broker_positions(root: Path) -> dict[OptionContract, int]:
    """Return the simulated broker's positions now: its last account snapshot plus the
    executions logged after it (the snapshot is rewritten only at settlements and clean stops)."""
    ledger = SimLedger(root / SYSTEM_FOLDER / "sim_state.json")
    raw = ledger.read_state()
    out = {c: q for c, (q, _) in positions_of(raw).items()} if raw is not None else {}
    applied = int(raw.get("exec_seq", 0)) if raw is not None else 0
    for row in ledger.read_executions():
        if int(row["seq"]) > applied:
            for contract, qty, _ in leg_bookings(row):
                out[contract] = out.get(contract, 0) + qty
    return {c: q for c, q in out.items() if q}


def monotonic_problems(root: Path) -> list[str]:
    """Return every journal file whose timestamps go backwards."""
    problems = []
    for path in sorted(root.glob("*/*.jsonl")):
        if path.name == "executions.jsonl":
            continue
        last: datetime | None = None
        for i, line in enumerate(read_jsonl(path), start=1):
            ts = datetime.fromisoformat(str(line["ts"]))
            if last is not None and ts < last:
                problems.append(f"{path.relative_to(root)}:{i}: {ts} before {last}")
                break
            last = ts
    return problems


def id_problems(root: Path) -> list[str]:
    """Return every id used twice: decision ids, ORDER ids, broker order ids of ORDER_STATUS."""
    problems = []
    for name in strategy_folders(root):
        decisions = Counter(
            d["decision_id"] for d in read_events(root / name, ["DECISION"]) if "decision_id" in d
        )
        problems += [
            f"{name}: decision id {d} used {n} times" for d, n in decisions.items() if n > 1
        ]
        orders = Counter(o["order_id"] for o in read_events(root / name, ["ORDER"]))
        problems += [f"{name}: order id {o} used {n} times" for o, n in orders.items() if n > 1]
    submitted: dict[str, set[str]] = {}
    for name in strategy_folders(root, shadow=False):
        for s in read_events(root / name, ["ORDER_STATUS"]):
            if s.get("broker_order_id") and s["status"] == "submitted":
                submitted.setdefault(str(s["broker_order_id"]), set()).add(
                    f"{name}/{s['order_id']}"
                )
    problems += [
        f"broker order id {b} given to {sorted(o)}" for b, o in submitted.items() if len(o) > 1
    ]
    return problems


def fill_problems(root: Path) -> list[str]:
    """Return every broker execution not journaled exactly once, and every FILL it never made."""
    execs = broker_executions(root)
    combo = {e["exec_id"] for e in execs}
    legs = {leg["exec_id"] for e in execs for leg in e["legs"]}
    seen_combo: Counter[str] = Counter()
    seen_legs: Counter[str] = Counter()
    for name in strategy_folders(root, shadow=False):
        for f in read_events(root / name, ["FILL"], legs=True):
            if str(f.get("order_id", "")).endswith(".expiry"):
                continue  # a settlement at expiry: the broker's settlement, not an execution
            (seen_combo if f.get("kind", "combo") == "combo" else seen_legs)[f["fill_id"]] += 1
    problems = [
        f"execution {e} journaled {seen_combo[e]} times" for e in combo if seen_combo[e] != 1
    ]
    problems += [
        f"leg execution {e} journaled {seen_legs[e]} times" for e in legs if seen_legs[e] != 1
    ]
    problems += [f"FILL {f} is no execution of the broker" for f in seen_combo if f not in combo]
    problems += [f"leg FILL {f} is no execution of the broker" for f in seen_legs if f not in legs]
    return problems


def order_problems(root: Path) -> list[str]:
    """Return closes the broker executed beyond what a position held (an order sent twice), and
    closing orders journaled while the journal held nothing to close."""
    problems = []
    held: Counter[str] = Counter()
    for e in broker_executions(root):
        parsed = parse_order_ref(e["order_ref"])
        if parsed is None:
            problems.append(f"execution {e['exec_id']} of a foreign order {e['order_ref']!r}")
            continue
        key = f"{parsed[0]}/{parsed[1]}"
        if parsed[2] == "open":
            held[key] += int(e["qty"])
        elif parsed[2] == "close":
            held[key] -= int(e["qty"])
            if held[key] < 0:
                problems.append(f"{key}: the broker closed more than was open ({e['exec_id']})")
    for name in strategy_folders(root, shadow=False):
        book = PositionBook()
        lines = read_events(root / name, ["ORDER", "FILL", "ORDER_STATUS"])
        for line in sorted(lines, key=lambda x: str(x["ts"])):
            if line["event"] == "ORDER" and line["intent"] in ("close", "roll"):
                pos = book.positions.get(line["position_id"])
                if pos is None or pos.open_qty < int(line["qty"]):
                    have = pos.open_qty if pos is not None else 0
                    problems.append(
                        f"{name}: {line['order_id']} ({line['intent']} of {line['qty']}) "
                        f"sent while the journal held {have}"
                    )
            book.apply(line)
    return problems


def consistency_problems(root: Path, caps: Caps) -> list[str]:
    """Return everything that disagrees between the journals and the simulated broker."""
    names = strategy_folders(root, shadow=False)
    problems = fill_problems(root) + order_problems(root) + id_problems(root)
    problems += monotonic_problems(root)
    ours = journal_positions(root, names)
    theirs = broker_positions(root)
    for c in sorted(set(ours) | set(theirs)):
        if ours.get(c, 0) != theirs.get(c, 0):
            problems.append(f"{c.key}: journals {ours.get(c, 0):+d}, broker {theirs.get(c, 0):+d}")
    problems += [str(v) for v in cap_violations(root, caps, names)]
    return problems
