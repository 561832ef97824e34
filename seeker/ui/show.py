"""`seeker show POSITION_ID`: one position from its journal lines, after the run or during it.

Sections: facts, legs and strikes, greeks of the structure (source named), probability of touch
of each short strike, payoff at expiry / T+0 / T+X drawn in the terminal, confidence history,
and every decision and order line of the position. See ``seeker.ui.greeks`` for where each
figure comes from; greeks, touch odds and the T+0 / T+X curves use one set of IVs and name it
(``entry IVs`` or ``last IVs (<time>)``). T+0 is the time of the latest journaled spot, T+X that
plus X days (default: until the strategy's manage_dte, else half the time left).

Every section fits the console's width (80 columns first) and never cuts a date or a number;
``width=None`` (plain, piped output) lays each one out at its natural width.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from seeker.core.journal import SHADOW_SUFFIX
from seeker.core.tz import MARKET_TZ
from seeker.ui.columns import Column, fit_tables
from seeker.ui.console import is_plain
from seeker.ui.greeks import (
    GREEKS,
    IvSet,
    chosen_ivs,
    entry_ivs,
    last_ivs,
    spots,
    structure_greeks,
    touch_odds,
)
from seeker.ui.legs_view import legs_table
from seeker.ui.lines import JOURNAL_FULL_MIN, Hanging, num, short_ts
from seeker.ui.names import plural
from seeker.ui.payoff_view import payoff_section
from seeker.ui.position import PositionRecord
from seeker.ui.widgets import badge_items, flow, score_style, sparkline

ORDER_EVENTS = ("DECISION", "ORDER", "ORDER_STATUS", "FILL", "POST_TRADE", "RISK")
BORDER = "#30363d"
TWO_COLUMN_FACTS = 110
"""Narrowest console (columns) where the facts panel shows two label/value pairs a line."""


class Market:
    """What the config says about a position's market: rate, dividend yield, manage_dte."""

    def __init__(self, record: PositionRecord, cfg: Any) -> None:
        pos = record.position
        self.problem: str | None = None
        self.rate = math.nan
        self.dividend = math.nan
        listing = cfg.listings().get(pos.listing_id)
        if pos.currency not in cfg.rates:
            self.problem = f"no rate for {pos.currency} in the config"
        elif listing is None:
            self.problem = f"listing {pos.listing_id} is not in the config's universe"
        else:
            self.rate = float(cfg.rates[pos.currency])
            self.dividend = float(listing.dividend_yield)
        strategy = getattr(cfg.strategies, record.folder.removesuffix(SHADOW_SUFFIX), None)
        self.manage_dte: int | None = getattr(strategy, "manage_dte", None)


def _when(ts: datetime | None) -> str:
    return "-" if ts is None else f"{ts.astimezone(MARKET_TZ):%Y-%m-%d %H:%M}"


def _width_text(record: PositionRecord, meta: dict[str, Any]) -> tuple[str, str]:
    """Return the width row: ``width 0.50``; a diagonal's strike gap; nothing for a calendar."""
    legs = record.position.legs
    multi = len({leg.contract.expiry for leg in legs}) > 1
    width = meta.get("width")
    label = "strike gap" if multi else "width"
    if not isinstance(width, (int, float)) or width == 0:
        return label, "-" if not multi else "none (same strike: calendar)"
    return label, num(width)


def facts(record: PositionRecord, width: int | None = None) -> Panel:
    """Return the position's facts: what, where, when, prices, P&L, exit.

    Two label/value pairs a line from :data:`TWO_COLUMN_FACTS` columns (and in plain output),
    one a line below.
    """
    pos = record.position
    order = record.open_order
    meta = order.get("meta") or {}
    post = record.last("POST_TRADE")
    conf = record.last("CONFIDENCE")
    credit = -pos.entry_price
    price = f"credit {credit:.2f} per share" if credit >= 0 else f"debit {-credit:.2f} per share"
    if pos.opened_qty == 0:
        price = "never filled"
    if pos.status == "closed":
        pnl = pos.realized_pnl()
        pnl_text = Text(f"{pnl:+.2f} {pos.currency} realised after commissions")
    elif conf is not None and isinstance(conf.get("pnl_unit"), (int, float)):
        pnl = conf["pnl_unit"] * pos.multiplier * pos.open_qty
        pnl_text = Text(f"{pnl:+.2f} {pos.currency} open at mid ({short_ts(conf['ts'])})")
    else:
        pnl, pnl_text = math.nan, Text("? (never priced)", style="grey62")
    if math.isfinite(pnl):
        pnl_text.stylize("bold green" if pnl > 0 else "bold red")
    gap_label, gap = _width_text(record, meta)
    pairs: list[tuple[str, str | Text]] = [
        ("strategy", record.folder),
        ("status", f"{pos.status}, {pos.open_qty}/{pos.opened_qty} open"),
        ("structure", str(meta.get("label", order.get("reason", "")))),
        ("underlying", f"{pos.underlying} ({pos.listing_id}) · {pos.currency}"),
        ("sector", pos.sector),
        ("cluster", pos.cluster),
        ("opened", _when(pos.opened_at)),
        ("closed", _when(pos.closed_at)),
        ("entry", f"{price}, DTE {meta.get('dte', '?')}"),
        (gap_label, gap),
        (
            "max loss",
            f"{pos.max_loss_unit * max(pos.opened_qty, 1):.2f} {pos.currency} "
            "(commissions included)",
        ),
        ("exit", str(pos.exit_rule or "-")),
        ("P&L", pnl_text),
        ("slippage", f"{pos.slippage:+.2f} vs the first limits"),
        ("regime", str(meta.get("regime") or (post or {}).get("regime_at_entry") or "?")),
    ]
    two = width is None or width >= TWO_COLUMN_FACTS
    grid = Table.grid(padding=(0, 2))
    for _ in range(2 if two else 1):
        grid.add_column(style="grey62", no_wrap=True)
        grid.add_column()
    if two:
        for i in range(0, len(pairs), 2):
            left, right = pairs[i], pairs[i + 1] if i + 1 < len(pairs) else ("", "")
            grid.add_row(left[0], left[1], right[0], right[1])
    else:
        for label, value in pairs:
            grid.add_row(label, value)
    return Panel(
        grid, title=f"[bold]{record.position_id}[/]", border_style=BORDER, expand=width is not None
    )


def greeks_section(
    record: PositionRecord, market: Market, ivs: IvSet, width: int | None = None
) -> RenderableType:
    """Return the structure's greeks per leg, per unit and for the position, with the source."""
    if market.problem:
        return Text(f"greeks: unknown — {market.problem}", style="yellow")
    g = structure_greeks(record, market.rate, market.dividend, ivs)
    if g is None:
        return Text(
            "greeks: unknown — no spot was ever journaled for this position", style="yellow"
        )
    pos = record.position
    qty = pos.open_qty or pos.opened_qty
    scale = pos.multiplier * qty
    rows: list[tuple[str, list[str], str]] = [
        (f"{leg.action} {leg.contract.strike:g}{leg.contract.right}", _greek_cells(r, 1.0), "")
        for leg, r in zip(pos.legs, g.per_leg, strict=True)
    ]
    rows.append(("structure, per share", _greek_cells(g.total, 1.0), "bold"))
    rows.append(
        (f"position ({qty} × {pos.multiplier}), $", _greek_cells(g.total, scale), "bold cyan")
    )
    columns = [Column("", "key", [Text(label, style=style) for label, _, style in rows])]
    for i, head in enumerate(("delta", "gamma", "theta / day", "vega / vol pt")):
        cells = [Text(values[i], style=style) for _, values, style in rows]
        columns.append(Column(head, "number", cells))
    tables = fit_tables("greeks of the structure", columns, width)
    note = Text(f"source: {g.source}", style="grey62")
    unknown = [
        f"{leg.contract.strike:g}{leg.contract.right}"
        for leg, row in zip(pos.legs, g.per_leg, strict=True)
        if not all(math.isfinite(v) for v in row.values())
    ]
    if unknown:
        note.append(f"; unknown for {', '.join(unknown)} (no IV known), so for the structure")
    return Group(*tables, note)


def _greek_cells(row: dict[str, float], scale: float) -> list[str]:
    values = {k: row[k] * scale for k in GREEKS}
    return [
        num(values["delta"], "+.3f"),
        num(values["gamma"], "+.4f"),
        num(values["theta"] / 365.0, "+.4f"),
        num(values["vega"] / 100.0, "+.4f"),
    ]


def touch_section(record: PositionRecord, market: Market, ivs: IvSet) -> RenderableType:
    """Return each short strike's probability of being touched before expiry."""
    seen = spots(record)
    if market.problem or not seen:
        why = market.problem or "no spot was ever journaled"
        return Text(f"probability of touch: unknown — {why}", style="yellow")
    ref = seen[-1]
    table = Table(title="probability of touch", title_justify="left", header_style="bold")
    for col in ("short strike", "distance", "P(touch before expiry)"):
        table.add_column(col, justify="right")
    for leg, p in touch_odds(record, ivs.ivs, ref, market.rate, market.dividend):
        k = leg.contract.strike
        table.add_row(
            f"{k:g}{leg.contract.right}",
            f"{100 * (k - ref.spot) / ref.spot:+.1f} %",
            Text(f"{num(p * 100, '.0f')} %", style="red" if p >= 0.5 else "green"),
        )
    note = Text(
        f"from spot {ref.spot:g} at {_when(ref.ts)} with the {ivs.label} "
        "(risk-neutral first passage, pricing.prob_touch)",
        style="grey62",
    )
    return Group(table, note)


def confidence_section(record: PositionRecord, width: int | None) -> RenderableType:
    """Return the confidence history: a sparkline of the score, sampled rows, latest badges."""
    lines = [x for x in record.lines("CONFIDENCE") if isinstance(x.get("score"), (int, float))]
    if not lines:
        return Text("confidence: never scored (no CONFIDENCE line)", style="grey62")
    scores = [float(x["score"]) for x in lines]
    last = lines[-1]
    head = Text("score ")
    head.append(f"{scores[0]:.0f}", style=score_style(scores[0]))
    head.append(" → ")
    head.append(f"{scores[-1]:.0f}", style=score_style(scores[-1]))
    head.append(
        f"  (min {min(scores):.0f}, max {max(scores):.0f}; {plural(len(scores), 'poll')} from "
        f"{short_ts(lines[0]['ts'])} to {short_ts(last['ts'])})"
    )
    lo, hi = max(0.0, min(scores) - 5), min(100.0, max(scores) + 5)
    room = 120 if width is None else width
    spark = Text(sparkline(scores, max(20, room - 30), lo, hi), style=score_style(scores[-1]))
    spark.append(f"  (scale {lo:.0f}–{hi:.0f})", style="grey62")
    table = Table(header_style="bold", box=None, padding=(0, 1))
    for col in ("time", "DTE", "spot", "P&L/sh", "score", "worrying"):
        table.add_column(
            col,
            justify="left" if col in ("time", "worrying") else "right",
            no_wrap=col != "worrying",
        )
    n = len(lines)
    picks = sorted({round(i * (n - 1) / 7) for i in range(8)}) if n > 8 else range(n)
    for i in picks:
        x = lines[i]
        table.add_row(
            short_ts(x["ts"]),
            str(x.get("dte", "?")),
            num(x.get("spot")),
            num(x.get("pnl_unit"), "+.3f"),
            Text(f"{x['score']:.0f}", style=score_style(float(x["score"]))),
            ", ".join(x.get("worrying") or []) or "-",
        )
    good, bad = list(last.get("reassuring") or []), list(last.get("worrying") or [])
    items = [Text("latest badges:"), *badge_items(good, bad)]
    latest = flow(items, None if width is None else width - 4, gap="  ")
    return Panel(
        Group(head, spark, table, *latest),
        title="confidence history",
        border_style=BORDER,
        expand=width is not None,
    )


def history_section(record: PositionRecord, width: int | None = None) -> RenderableType:
    """Return every decision, order, status, fill, post-trade and risk line of the position.

    Below :data:`JOURNAL_FULL_MIN` columns the folder (the same on every line) is left out and
    event names are short; each line wraps under its own text.
    """
    narrow = width is not None and width < JOURNAL_FULL_MIN
    source = "" if narrow else record.folder
    body: list[RenderableType] = [
        Hanging(source, e.line, compact=narrow)
        for e in record.entries
        if e.line.get("event") in ORDER_EVENTS
    ]
    title = "decisions and orders" + (f" ({record.folder})" if narrow else "")
    return Panel(
        Group(*body) if body else Text("none"),
        title=title,
        border_style=BORDER,
        expand=width is not None,
    )


def render_position(
    record: PositionRecord, cfg: Any, tx_days: float | None = None, width: int | None = 120
) -> list[RenderableType]:
    """Return every section of `seeker show` for one position, laid out for `width` columns.

    Pass the console's width; ``None`` (or a plain console's width) gives natural widths.
    """
    width = None if is_plain(width) else width
    market = Market(record, cfg)
    r, q = market.rate, market.dividend
    entry = entry_ivs(record, r, q)
    last = last_ivs(record, r, q)
    if record.position.opened_qty == 0:
        why = f"never filled ({record.position.status}): no greeks, touch odds or payoff"
        return [
            facts(record, width),
            legs_table(record, entry, last, width),
            Text(why, style="yellow"),
            history_section(record, width),
        ]
    ivs = chosen_ivs(record, r, q)
    return [
        facts(record, width),
        legs_table(record, entry, last, width),
        greeks_section(record, market, ivs, width),
        touch_section(record, market, ivs),
        payoff_section(record, ivs, market.problem, r, q, market.manage_dte, tx_days, width),
        confidence_section(record, width),
        history_section(record, width),
    ]
