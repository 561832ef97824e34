"""Performance reports derived from the journals (nothing is stored twice).

A trade is a position whose closing fills brought it to zero. Every figure is computed here from
the journal lines of each strategy folder:

* P&L: the net cash of the position's combo fills (entry and exit, × multiplier × quantity)
  minus every commission (``Position.realized_pnl``); gross = net + commissions. A win is a
  net P&L > 0, anything else a loss.
* slippage: Σ (fill price − the order's first limit) × multiplier × quantity over the entry and
  exit fills ($; positive = paid more than the first limit asked) — ``Position.slippage``.
* MFE / MAE: the best and worst open P&L per unit seen at management polls (CONFIDENCE lines'
  ``pnl_unit``), × multiplier × opened quantity; unknown without any such line.
* time in position: first opening fill to the closing fill (hours).
* exit rule: the ``exit_rule`` of the closing fill (take_profit, stop, manage_dte, touch,
  red_line_*, event_*, force_exit…).
* regime at entry: the ORDER's ``meta.regime_labels`` (else ``meta.regime``, else POST_TRADE
  ``regime_at_entry``) without its IV-rank number, e.g. ``no trend, range, IVR high, …``.

Money is never converted: every row is one currency (a sector traded in USD and CAD has two rows).
Shadow folders (``<strategy>.shadow``) are reported apart from real trading. ``since`` keeps the
trades closed at or after it (and the decisions, orders and fills journaled since then).
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.agents.risk_guard import Caps, RiskConfig
from seeker.core.journal import SHADOW_SUFFIX, strategy_folders
from seeker.core.positions import Position, PositionBook
from seeker.reports.account import (
    AccountSummary,
    account_summary,
    caps_in_force,
    fill_commission,
    read_account,
)
from seeker.reports.audit import AUDIT_FIELDS, CapViolation, violations_in
from seeker.reports.reading import (
    TimeReader,
    decision_head,
    forward,
    parse,
    top_number,
    top_string,
)

UNKNOWN = "unknown"
TOTAL = "total"
"""The key of the row that adds up every real strategy (one per currency)."""
_IVR_NUMBER = re.compile(r"IVR [0-9.]+ ")
_CONFIDENCE = b'{"event":"CONFIDENCE",'


@dataclass(frozen=True)
class Trade:
    """One closed position, with every figure derived from its journal lines."""

    strategy: str
    position_id: str
    underlying: str
    sector: str
    cluster: str
    currency: str
    regime: str
    regime_class: str
    opened_at: datetime | None
    closed_at: datetime
    qty: int
    gross_pnl: float
    commissions: float
    net_pnl: float
    slippage: float
    mfe: float | None
    mae: float | None
    hours: float | None
    exit_rule: str

    @property
    def shadow(self) -> bool:
        """Return True for a hypothetical trade of a strategy run in shadow mode."""
        return self.strategy.endswith(SHADOW_SUFFIX)

    def as_dict(self) -> dict[str, Any]:
        """Return the trade as a JSON-ready mapping."""
        return {
            "strategy": self.strategy,
            "shadow": self.shadow,
            "position_id": self.position_id,
            "underlying": self.underlying,
            "sector": self.sector,
            "cluster": self.cluster,
            "currency": self.currency,
            "regime": self.regime,
            "regime_class": self.regime_class,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "closed_at": self.closed_at.isoformat(),
            "qty": self.qty,
            "gross_pnl": round(self.gross_pnl, 2),
            "commissions": round(self.commissions, 2),
            "net_pnl": round(self.net_pnl, 2),
            "slippage": round(self.slippage, 2),
            "mfe": _r2(self.mfe),
            "mae": _r2(self.mae),
            "hours": None if self.hours is None else round(self.hours, 2),
            "exit_rule": self.exit_rule,
        }


def _r2(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Stats:
    """Trades of one group (a strategy, regime, sector, cluster or currency) in one currency."""

    key: str
    currency: str
    trades: int = 0
    wins: int = 0
    losses: int = 0
    gross_pnl: float = 0.0
    commissions: float = 0.0
    net_pnl: float = 0.0
    max_win: float = 0.0
    max_loss: float = 0.0
    max_drawdown: float = 0.0
    slippage: float = 0.0
    exits: dict[str, int] = field(default_factory=dict)
    mfes: list[float] = field(default_factory=list, repr=False)
    maes: list[float] = field(default_factory=list, repr=False)
    hours: list[float] = field(default_factory=list, repr=False)
    _equity: float = field(default=0.0, repr=False)
    _peak: float = field(default=0.0, repr=False)

    def add(self, t: Trade) -> None:
        """Count one closed trade (trades must come in closing order for the drawdown)."""
        self.trades += 1
        self.wins += t.net_pnl > 0
        self.losses += t.net_pnl <= 0
        self.gross_pnl += t.gross_pnl
        self.commissions += t.commissions
        self.net_pnl += t.net_pnl
        self.max_win = max(self.max_win, t.net_pnl)
        self.max_loss = min(self.max_loss, t.net_pnl)
        self.slippage += t.slippage
        self.exits[t.exit_rule] = self.exits.get(t.exit_rule, 0) + 1
        if t.mfe is not None:
            self.mfes.append(t.mfe)
        if t.mae is not None:
            self.maes.append(t.mae)
        if t.hours is not None:
            self.hours.append(t.hours)
        self._equity += t.net_pnl
        self._peak = max(self._peak, self._equity)
        self.max_drawdown = max(self.max_drawdown, self._peak - self._equity)

    @property
    def win_rate(self) -> float:
        """Return wins / trades (0 when there is no trade)."""
        return self.wins / self.trades if self.trades else 0.0

    @property
    def average(self) -> float:
        """Return the average net P&L per trade."""
        return self.net_pnl / self.trades if self.trades else 0.0

    @property
    def avg_slippage(self) -> float | None:
        """Return the average slippage per trade against the first limits ($)."""
        return self.slippage / self.trades if self.trades else None

    @property
    def avg_mfe(self) -> float | None:
        """Return the average maximum favourable excursion of the trades that have one ($)."""
        return _mean(self.mfes)

    @property
    def avg_mae(self) -> float | None:
        """Return the average maximum adverse excursion of the trades that have one ($)."""
        return _mean(self.maes)

    @property
    def avg_hours(self) -> float | None:
        """Return the average time in position (hours)."""
        return _mean(self.hours)

    def exit_shares(self) -> dict[str, float]:
        """Return each exit rule's share of the trades (0..1)."""
        return {k: v / self.trades for k, v in sorted(self.exits.items())} if self.trades else {}

    def as_dict(self, name: str = "key") -> dict[str, Any]:
        """Return the figures as a JSON-ready mapping, the group under `name`."""
        return {
            name: self.key,
            "currency": self.currency,
            "trades": self.trades,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": round(self.win_rate, 4),
            "gross_pnl": round(self.gross_pnl, 2),
            "commissions": round(self.commissions, 2),
            "net_pnl": round(self.net_pnl, 2),
            "average": round(self.average, 2),
            "max_win": round(self.max_win, 2),
            "max_loss": round(self.max_loss, 2),
            "max_drawdown": round(self.max_drawdown, 2),
            "avg_slippage": _r2(self.avg_slippage),
            "avg_mfe": _r2(self.avg_mfe),
            "avg_mae": _r2(self.avg_mae),
            "avg_hours": None if self.avg_hours is None else round(self.avg_hours, 2),
            "exits": dict(sorted(self.exits.items())),
            "exit_shares": {k: round(v, 4) for k, v in self.exit_shares().items()},
        }


@dataclass
class StrategySummary(Stats):
    """One strategy's trades in one currency, plus its activity (orders, fills, refusals)."""

    open_positions: int = 0
    orders: int = 0
    fills: int = 0
    decisions: int = 0
    refusals: dict[str, int] = field(default_factory=dict)

    @property
    def strategy(self) -> str:
        """Return the strategy's journal folder name (``<name>.shadow`` in shadow mode)."""
        return self.key

    @property
    def shadow(self) -> bool:
        """Return True for the hypothetical results of a strategy run in shadow mode."""
        return self.key.endswith(SHADOW_SUFFIX)

    def as_dict(self, name: str = "strategy") -> dict[str, Any]:
        """Return the summary as a JSON-ready mapping."""
        out = super().as_dict(name)
        out["shadow"] = self.shadow
        out.update(
            open_positions=self.open_positions,
            orders=self.orders,
            fills=self.fills,
            decisions=self.decisions,
            refusals=dict(sorted(self.refusals.items())),
        )
        return out


# -- reading the journals ---------------------------------------------------------------------
def closed_positions(book: PositionBook) -> list[Position]:
    """Return fully closed positions in the order they closed."""
    done = [p for p in book.positions.values() if p.status == "closed" and p.opened_qty > 0]
    return sorted(done, key=lambda p: (p.closed_at is None, p.closed_at, p.position_id))


def regime_key(labels: Mapping[str, Any] | None, summary: str | None = None) -> str:
    """Return a regime without its measures: ``no trend, range, IVR high, flat term, skew normal``.

    From the ORDER's ``regime_labels``, else from a ``Regime.summary()`` text (number dropped).
    """
    if labels:
        trend = str(labels.get("trend", "?"))
        structure = str(labels.get("structure", "?"))
        term = str(labels.get("term", "?"))
        return ", ".join(
            (
                "no trend" if trend == "none" else f"trend {trend}",
                "neutral structure" if structure == "neutral" else structure.replace("_", " "),
                f"IVR {labels.get('ivr', '?')}",
                "flat term" if term == "flat" else term,
                f"skew {labels.get('skew', '?')}",
            )
        )
    if summary:
        return _IVR_NUMBER.sub("IVR ", summary)
    return UNKNOWN


def regime_class(labels: Mapping[str, Any] | None, summary: str | None = None) -> str:
    """Return the regime as the v1 selection reads it: trend or structure, and IV rank.

    E.g. ``range · IVR high`` (iron condor, iron fly), ``trend up · IVR high`` (credit spread),
    ``neutral · IVR low`` (diagonal). At most 18 classes, so reports stay readable.
    """
    if labels:
        trend = str(labels.get("trend", "?"))
        shape = f"trend {trend}" if trend in ("up", "down") else str(labels.get("structure", "?"))
        return f"{shape.replace('_', ' ')} · IVR {labels.get('ivr', '?')}"
    if summary:
        parts = [p.strip() for p in _IVR_NUMBER.sub("IVR ", summary).split(",")]
        trend = next((p for p in parts if p.startswith("trend ")), None)
        shape = trend or next(
            (p for p in parts if p in ("range", "breakout up", "breakout down")), "neutral"
        )
        ivr = next((p for p in parts if p.startswith("IVR")), "IVR ?")
        return f"{shape} · {ivr}"
    return UNKNOWN


def _parse(value: Any) -> datetime | None:
    try:
        ts = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def _trade(name: str, pos: Position, post: Mapping[str, Any] | None) -> Trade:
    assert pos.closed_at is not None
    scale = pos.multiplier * pos.opened_qty
    net = pos.realized_pnl()
    held = (pos.closed_at - pos.opened_at).total_seconds() / 3600 if pos.opened_at else None
    summary = pos.meta.get("regime") or (post or {}).get("regime_at_entry")
    return Trade(
        strategy=name,
        position_id=pos.position_id,
        underlying=pos.underlying,
        sector=pos.sector,
        cluster=pos.cluster,
        currency=pos.currency,
        regime=regime_key(pos.meta.get("regime_labels"), summary),
        regime_class=regime_class(pos.meta.get("regime_labels"), summary),
        opened_at=pos.opened_at,
        closed_at=pos.closed_at,
        qty=pos.opened_qty,
        gross_pnl=net + pos.commissions,
        commissions=pos.commissions,
        net_pnl=net,
        slippage=pos.slippage,
        mfe=pos.best_pnl_unit * scale if math.isfinite(pos.best_pnl_unit) else None,
        mae=pos.worst_pnl_unit * scale if math.isfinite(pos.worst_pnl_unit) else None,
        hours=held,
        exit_rule=pos.exit_rule or UNKNOWN,
    )


class _OutOfOrder(Exception):
    """A journal file whose times go backward (the streamed merge cannot be trusted)."""


@dataclass
class Activity:
    """What a strategy did since the report's start: orders, combo fills, decisions, refusals."""

    orders: int = 0
    fills: int = 0
    decisions: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    commissions: list[tuple[str, float]] = field(default_factory=list)
    """(currency, commission) of each combo fill, in file order (the account's commissions)."""


@dataclass
class FolderScan:
    """One strategy folder read in one pass: its closed trades, its book and its activity."""

    trades: list[Trade]
    book: PositionBook
    activity: Activity
    audit_lines: list[dict[str, Any]] = field(default_factory=list)
    """The ORDER and combo FILL lines, only the fields the cap audit reads, in file order."""


BOOK_FILES = ("analysis.jsonl", "trades.jsonl")
"""The files that rebuild the book (CONFIDENCE, POST_TRADE; ORDER, FILL, ORDER_STATUS), in the
order equal times are applied."""
BOOK_EVENTS = frozenset({"ORDER", "FILL", "ORDER_STATUS", "CONFIDENCE", "POST_TRADE"})


def _confidence(raw: bytes, when: TimeReader) -> tuple[datetime, dict[str, Any]] | None:
    """Return a CONFIDENCE line's time and the two fields the book reads, from its head."""
    ts = when(raw)
    found_pid, pid = top_string(raw, "position_id")
    found_pnl, pnl = top_number(raw, "pnl_unit")
    if ts is None or not (found_pid and found_pnl and raw.endswith(b"}")):
        return None
    return ts, {"event": "CONFIDENCE", "position_id": pid, "pnl_unit": pnl}


def _book_lines(path: Path, strict: bool) -> Iterator[tuple[datetime, dict[str, Any]]]:
    """Yield (time, line) of the lines of `path` that rebuild the book, leg fills left out.

    A CONFIDENCE line (the most frequent) is read from its head: its time, position and P&L
    per unit. `strict` raises _OutOfOrder when a line is older than the one before it.
    """
    last: datetime | None = None
    when = TimeReader()
    for raw in forward(path):
        quick = _confidence(raw, when) if raw.startswith(_CONFIDENCE) else None
        if quick is not None:
            ts, line = quick
        else:
            parsed = parse(raw, path)
            if parsed is None or parsed.get("event") not in BOOK_EVENTS:
                continue
            if parsed.get("kind") == "leg":
                continue
            found = _parse(parsed.get("ts"))
            if found is None:
                continue
            ts, line = found, parsed
        if strict and last is not None and ts < last:
            raise _OutOfOrder(str(path))
        last = ts
        yield ts, line


def _count_decisions(path: Path, since: datetime | None, activity: Activity) -> None:
    """Count DECISION lines and refusals by agent from their bytes, keeping none of them.

    ``ts``, ``outcome`` and ``blocked_by`` lead each line (before any nested object), so a
    line is parsed only when one of them cannot be read from its head.
    """
    when = TimeReader()
    refusals = activity.refusals
    for raw in forward(path):
        head = decision_head(raw)
        if head is not None:
            ts = when.parse(head[0])
            outcome: Any = head[1].decode()
            blocker: Any = None if head[2] is None else head[2].decode()
        if head is None or ts is None:
            line = parse(raw, path)
            if line is None or line.get("event") != "DECISION":
                continue
            ts = _parse(line.get("ts"))
            if ts is None:
                continue
            outcome, blocker = line.get("outcome"), line.get("blocked_by")
        if since is not None and ts < since:
            continue
        activity.decisions += 1
        if outcome == "no_trade":
            key = str(blocker)
            refusals[key] = refusals.get(key, 0) + 1


def _replay(
    lines: Iterable[tuple[datetime, dict[str, Any]]],
    since: datetime | None,
    activity: Activity,
    audit: list[dict[str, Any]],
) -> tuple[PositionBook, dict[str, dict[str, Any]]]:
    """Apply lines to a new book in order; count orders and fills; keep the POST_TRADE lines
    and, for the cap audit, the ORDER and FILL lines' audited fields."""
    book = PositionBook()
    posts: dict[str, dict[str, Any]] = {}
    for ts, line in lines:
        event = line["event"]
        if event == "POST_TRADE":
            posts[str(line.get("position_id"))] = line
            continue
        book.apply(line)
        if event in ("ORDER", "FILL"):
            audit.append({k: line[k] for k in AUDIT_FIELDS if k in line})
        if since is None or ts >= since:
            activity.orders += event == "ORDER"
            if event == "FILL" and line.get("kind", "combo") == "combo":
                activity.fills += 1
                activity.commissions.append(fill_commission(line))
    return book, posts


def scan_folder(folder: Path, name: str, since: datetime | None = None) -> FolderScan:
    """Return a folder's closed trades (closing order), its book and its activity — streamed.

    One pass per file, merged in time order: the book and a few figures are all that is kept,
    so memory does not grow with the journals (DECISION lines, most of their bytes, are
    counted from their heads). A file out of time order (edited by hand) is read again and
    sorted instead.
    """
    paths = [folder / f for f in BOOK_FILES]
    try:
        activity, audit = Activity(), []
        merged = heapq.merge(*(_book_lines(p, True) for p in paths), key=lambda t: t[0])
        book, posts = _replay(merged, since, activity, audit)
    except _OutOfOrder:
        activity, audit = Activity(), []
        lines = sorted((item for p in paths for item in _book_lines(p, False)), key=lambda t: t[0])
        book, posts = _replay(lines, since, activity, audit)
    _count_decisions(folder / "decisions.jsonl", since, activity)
    trades = [
        _trade(name, pos, posts.get(pos.position_id))
        for pos in closed_positions(book)
        if since is None or (pos.closed_at is not None and pos.closed_at >= since)
    ]
    return FolderScan(trades, book, activity, audit)


def summarize(
    folder: Path, strategy: str, since: datetime | None = None, currency: str = "USD"
) -> list[StrategySummary]:
    """Return one summary per currency traded by a strategy (`currency` when it has none)."""
    return _summaries(strategy, scan_folder(folder, strategy, since), currency)


def _summaries(strategy: str, scan: FolderScan, currency: str) -> list[StrategySummary]:
    by_ccy: dict[str, StrategySummary] = {}

    def get(ccy: str) -> StrategySummary:
        if ccy not in by_ccy:
            by_ccy[ccy] = StrategySummary(key=strategy, currency=ccy)
        return by_ccy[ccy]

    for t in scan.trades:
        get(t.currency).add(t)
    for pos in scan.book.open_positions():
        get(pos.currency).open_positions += 1
    if not by_ccy:
        get(currency)
    head = by_ccy[sorted(by_ccy)[0]]
    head.orders = scan.activity.orders
    head.fills = scan.activity.fills
    head.decisions = scan.activity.decisions
    head.refusals = dict(scan.activity.refusals)
    return [by_ccy[c] for c in sorted(by_ccy)]


def _folders(root: Path, names: Iterable[str] | None) -> list[str]:
    """Return the named folders (and their shadow twins), or every strategy folder."""
    if not names:
        return strategy_folders(root)
    out: list[str] = []
    for name in names:
        for folder in (name, f"{name.removesuffix(SHADOW_SUFFIX)}{SHADOW_SUFFIX}"):
            if folder not in out and (folder == name or (root / folder).is_dir()):
                out.append(folder)
    return out


def summarize_all(
    root: Path,
    names: Iterable[str] | None = None,
    since: datetime | None = None,
    currency: str = "USD",
) -> list[StrategySummary]:
    """Return summaries of the named strategies (all journal folders when None)."""
    out: list[StrategySummary] = []
    for name in _folders(root, names):
        out.extend(summarize(root / name, name, since, currency))
    return out


# -- the full report --------------------------------------------------------------------------
GROUPINGS: dict[str, Callable[[Trade], str]] = {
    "strategy": lambda t: t.strategy,
    "regime": lambda t: t.regime_class,
    "strategy_regime": lambda t: f"{t.strategy} · {t.regime_class}",
    "sector": lambda t: t.sector,
    "cluster": lambda t: t.cluster,
    "currency": lambda t: t.currency,
}
"""The report's breakdowns: how each groups the trades."""


def group(trades: Iterable[Trade], key: Callable[[Trade], str]) -> list[Stats]:
    """Return the trades' figures grouped by `key` and currency, sorted by group then currency."""
    out: dict[tuple[str, str], Stats] = {}
    for t in sorted(trades, key=lambda t: (t.closed_at, t.strategy, t.position_id)):
        k = (key(t), t.currency)
        if k not in out:
            out[k] = Stats(key=k[0], currency=k[1])
        out[k].add(t)
    return [out[k] for k in sorted(out)]


@dataclass
class Section:
    """Real or shadow results: the trades, their breakdowns, and the cap violations."""

    trades: list[Trade]
    violations: list[CapViolation]

    def breakdown(self, dimension: str) -> list[Stats]:
        """Return the trades grouped by one of GROUPINGS."""
        return group(self.trades, GROUPINGS[dimension])

    def as_dict(self) -> dict[str, Any]:
        """Return the section as a JSON-ready mapping."""
        out: dict[str, Any] = {"trades": len(self.trades)}
        for dim in GROUPINGS:
            out[f"by_{dim}"] = [s.as_dict(dim) for s in self.breakdown(dim)]
        out["violations"] = [asdict(v) | {"text": str(v)} for v in self.violations]
        out["trade_list"] = [t.as_dict() for t in self.trades]
        return out


@dataclass
class Report:
    """Everything `seeker summary` shows."""

    root: Path
    since: datetime | None
    caps: Caps
    rows: list[StrategySummary]
    real: Section
    shadow: Section
    totals: list[StrategySummary] = field(default_factory=list)
    """Every real strategy added up, one row per currency."""
    account: AccountSummary | None = None
    """The account line (from the equity curve); None for journals without EQUITY lines."""

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready mapping (``rows``: one per strategy and currency)."""
        return {
            "log_dir": str(self.root),
            "since": self.since.isoformat() if self.since else None,
            "caps": self.caps.as_dict(),
            "rows": [r.as_dict() for r in self.rows],
            "totals": [r.as_dict() for r in self.totals],
            "account": None if self.account is None else self.account.as_dict(),
            "real": self.real.as_dict(),
            "shadow": self.shadow.as_dict(),
        }


def totals(rows: Iterable[StrategySummary], trades: Iterable[Trade]) -> list[StrategySummary]:
    """Return the real strategies added up, one row per currency (trades in closing order)."""
    out: dict[str, StrategySummary] = {}

    def get(ccy: str) -> StrategySummary:
        if ccy not in out:
            out[ccy] = StrategySummary(key=TOTAL, currency=ccy)
        return out[ccy]

    for t in sorted(trades, key=lambda t: (t.closed_at, t.strategy, t.position_id)):
        get(t.currency).add(t)
    for r in rows:
        if r.shadow:
            continue
        total = get(r.currency)
        total.open_positions += r.open_positions
        total.orders += r.orders
        total.fills += r.fills
        total.decisions += r.decisions
        for k, v in r.refusals.items():
            total.refusals[k] = total.refusals.get(k, 0) + v
    return [out[c] for c in sorted(out)]


def build_report(
    root: Path,
    caps: Caps,
    names: Iterable[str] | None = None,
    since: datetime | None = None,
    currency: str = "USD",
    risk: RiskConfig | None = None,
) -> Report:
    """Return the full report of the journals under `root`.

    With `risk` (the ``[risk]`` table), fills are audited against the caps in force when they
    happened (the capital basis journaled on the EQUITY lines), else against `caps`.
    """
    rows: list[StrategySummary] = []
    real: list[Trade] = []
    shadow: list[Trade] = []
    audited: dict[bool, list[tuple[str, dict[str, Any]]]] = {False: [], True: []}
    commissions: dict[str, float] = {}
    for name in _folders(root, names):
        scan = scan_folder(root / name, name, since)
        rows.extend(_summaries(name, scan, currency))
        is_shadow = name.endswith(SHADOW_SUFFIX)
        (shadow if is_shadow else real).extend(scan.trades)
        audited[is_shadow].extend((name, line) for line in scan.audit_lines)
        for ccy, paid in [] if is_shadow else scan.activity.commissions:
            commissions[ccy] = commissions.get(ccy, 0.0) + paid
    journal = read_account(root) if risk is not None or not names else None

    def violations(shadow_side: bool) -> list[CapViolation]:
        audit_caps = caps if risk is None else caps_in_force(root, risk, caps, journal)
        found = violations_in(audited[shadow_side], audit_caps)
        return [v for v in found if since is None or datetime.fromisoformat(v.ts) >= since]

    account = None
    if not names:  # the account is all strategies together; a selection is not the account
        pnls = [t.net_pnl for t in real if t.currency == currency]
        account = account_summary(root, currency, pnls, since, journal, commissions)
    return Report(
        root,
        since,
        caps,
        rows,
        Section(real, violations(False)),
        Section(shadow, violations(True)),
        totals(rows, real),
        account,
    )
