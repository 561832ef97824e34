"""Audit the journals: replay every strategy's fills in time order and check the five caps.

Each position holds the risk its ORDER line reserved (``risk``, capital currency) per unit, times
its open quantity. After every FILL, the committed risk in total and by sector, correlation cluster
(the label journaled at entry) and underlying must stay within the caps, and every position within
the per-trade cap. The caps are fixed, or those in force at each fill (the capital basis follows
the account's equity from session to session: ``reports.account.caps_in_force``). A rule
violation here means the Risk Guard failed; it must never happen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.agents.risk_guard import EPS, Caps
from seeker.core.journal import read_events, strategy_folders


@dataclass(frozen=True)
class CapViolation:
    """One cap exceeded after one fill."""

    ts: str
    strategy: str
    position_id: str
    cap: str
    key: str
    committed: float
    limit: float

    def __str__(self) -> str:
        return (
            f"{self.ts} {self.strategy} {self.position_id}: {self.cap} {self.key} "
            f"{self.committed:.2f} > {self.limit:.2f}"
        )


@dataclass
class _Held:
    strategy: str
    sector: str
    cluster: str
    underlying: str
    risk_unit: float
    open_qty: int = 0


def _ts(line: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(line["ts"]))


def cap_violations(
    root: Path, caps: Caps | Callable[[str], Caps], names: Iterable[str] | None = None
) -> list[CapViolation]:
    """Return every cap exceeded after any fill across the strategies' journals (empty = clean).

    `caps`: the caps, or a function of a fill's ``ts`` giving those in force then.
    """
    lines: list[tuple[str, Mapping[str, Any]]] = []
    for name in names or strategy_folders(root):
        lines.extend((name, line) for line in read_events(root / name, ["ORDER", "FILL"]))
    return violations_in(lines, caps)


AUDIT_FIELDS = (
    "event",
    "ts",
    "kind",
    "order_id",
    "position_id",
    "intent",
    "qty",
    "risk",
    "max_loss",
    "sector",
    "cluster",
    "symbol",
    "underlying",
)
"""The fields of ORDER and FILL lines the audit reads (a reader may keep only these)."""


def violations_in(
    lines: Iterable[tuple[str, Mapping[str, Any]]], caps: Caps | Callable[[str], Caps]
) -> list[CapViolation]:
    """Return every cap exceeded after any fill of (strategy, ORDER or combo FILL line) pairs.

    Lines of one strategy come in file order; they are replayed in time order across all.
    `caps`: the caps, or a function of a fill's ``ts`` giving those in force then (caps follow
    equity when the account's capital basis does).
    """
    caps_at = caps if callable(caps) else (lambda _ts: caps)
    ordered = sorted(
        ((_ts(line), i, name, line) for i, (name, line) in enumerate(lines)),
        key=lambda t: (t[0], t[2], t[1]),
    )
    held: dict[str, _Held] = {}
    intent: dict[str, tuple[str, str]] = {}
    out: list[CapViolation] = []
    for _, _, strategy, line in ordered:
        if line["event"] == "ORDER":
            key = f"{strategy}/{line['position_id']}"
            intent[f"{strategy}/{line['order_id']}"] = (key, line["intent"])
            if line["intent"] == "roll" and key in held and line.get("risk") is not None:
                # a roll can only keep or shrink the risk held: take its per-unit figure
                qty = max(int(line["qty"]), 1)
                held[key].risk_unit = min(held[key].risk_unit, float(line["risk"]) / qty)
            if line["intent"] == "open" and key not in held:
                qty = max(int(line["qty"]), 1)
                held[key] = _Held(
                    strategy,
                    line["sector"],
                    line["cluster"],
                    line.get("symbol", line["underlying"]),
                    float(line.get("risk", line["max_loss"])) / qty,
                )
            continue
        if line.get("kind", "combo") != "combo":
            continue
        ref = intent.get(f"{strategy}/{line['order_id']}")
        if ref is None or ref[0] not in held:
            continue
        pos = held[ref[0]]
        if ref[1] == "roll":  # a roll replaces legs; the open quantity is unchanged
            continue
        qty = int(line["qty"])
        pos.open_qty += qty if ref[1] == "open" else -qty
        pos.open_qty = max(pos.open_qty, 0)
        if ref[1] != "open":
            continue
        ts = str(line["ts"])
        out.extend(_check(held, caps_at(ts), ts, strategy, ref[0].split("/", 1)[1], pos))
    return out


def _check(
    held: dict[str, _Held], caps: Caps, ts: str, strategy: str, pid: str, pos: _Held
) -> list[CapViolation]:
    out = []
    if pos.risk_unit * pos.open_qty > caps.per_trade + EPS:
        out.append(
            CapViolation(
                ts, strategy, pid, "per_trade", pid, pos.risk_unit * pos.open_qty, caps.per_trade
            )
        )
    groups: dict[tuple[str, str], float] = {}
    total = 0.0
    for h in held.values():
        risk = h.risk_unit * h.open_qty
        if risk <= 0:
            continue
        total += risk
        for kind, key in (
            ("sector", h.sector),
            ("cluster", h.cluster),
            ("underlying", h.underlying),
        ):
            groups[(kind, key)] = groups.get((kind, key), 0.0) + risk
    if total > caps.portfolio + EPS:
        out.append(CapViolation(ts, strategy, pid, "portfolio", "all", total, caps.portfolio))
    for (kind, key), risk in groups.items():
        limit = getattr(caps, kind)
        if risk > limit + EPS:
            out.append(CapViolation(ts, strategy, pid, kind, key, risk, limit))
    return out
