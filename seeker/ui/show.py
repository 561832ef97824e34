"""`seeker show POSITION_ID`: one position from its journal lines, after the run or during it.

Sections: facts, legs and strikes, greeks of the structure (source named), probability of touch
of each short strike, payoff at expiry / T+0 / T+X drawn in the terminal, confidence history,
and every decision and order line of the position. See ``seeker.ui.greeks`` for where each
figure comes from; T+0 is the time of the latest journaled spot, T+X that plus X days (default:
until the strategy's manage_dte, else half the time left), both repriced at the entry IVs.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from seeker.core.calendar import MARKET_TZ
from seeker.core.journal import SHADOW_SUFFIX
from seeker.core.payoff import pnl_at_expiry
from seeker.ui.chart import AXIS_WIDTH, Series, line_chart
from seeker.ui.greeks import (
    GREEKS,
    LegIV,
    entry_ivs,
    first_expiry_close,
    horizon,
    last_ivs,
    spots,
    structure_greeks,
    touch_odds,
    value_at,
)
from seeker.ui.lines import num, render_line, short_ts
from seeker.ui.position import PositionRecord
from seeker.ui.widgets import badges, score_style, sparkline

ORDER_EVENTS = ("DECISION", "ORDER", "ORDER_STATUS", "FILL", "POST_TRADE", "RISK")
CHART_HEIGHT = 17


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


def facts(record: PositionRecord) -> Panel:
    """Return the position's facts: what, where, when, prices, P&L, exit."""
    pos = record.position
    order = record.open_order
    meta = order.get("meta") or {}
    post = record.last("POST_TRADE")
    conf = record.last("CONFIDENCE")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="grey62")
    grid.add_column()
    grid.add_column(style="grey62")
    grid.add_column()
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
    rows = [
        (
            "strategy",
            record.folder,
            "status",
            f"{pos.status}, {pos.open_qty}/{pos.opened_qty} open",
        ),
        (
            "structure",
            str(meta.get("label", order.get("reason", ""))),
            "underlying",
            f"{pos.underlying} ({pos.listing_id}) · {pos.currency}",
        ),
        ("sector", pos.sector, "cluster", pos.cluster),
        ("opened", _when(pos.opened_at), "closed", _when(pos.closed_at)),
        (
            "entry",
            f"{price}, DTE {meta.get('dte', '?')}",
            "width",
            num(meta.get("width")),
        ),
        (
            "max loss",
            f"{pos.max_loss_unit * max(pos.opened_qty, 1):.2f} {pos.currency} "
            "(commissions included)",
            "exit",
            str(pos.exit_rule or "-"),
        ),
        ("P&L", pnl_text, "slippage", f"{pos.slippage:+.2f} vs the first limits"),
        ("regime", str(meta.get("regime") or (post or {}).get("regime_at_entry") or "?"), "", ""),
    ]
    for row in rows:
        grid.add_row(*row)
    return Panel(grid, title=f"[bold]{record.position_id}[/]", border_style="#30363d")


def legs_table(record: PositionRecord, entry: dict[int, LegIV], last: dict[int, LegIV]) -> Table:
    """Return the legs: action, strike, expiry, fill prices and IVs (with their source)."""
    fills = record.lines("FILL")
    first = _leg_prices(fills[0]) if fills else {}
    latest = _leg_prices(fills[-1]) if len(fills) > 1 else {}
    table = Table(title="legs and strikes", title_justify="left", header_style="bold")
    for col in ("#", "action", "right", "strike", "expiry", "entry fill", "last fill"):
        table.add_column(col, justify="right" if col in ("#", "strike") else "left")
    table.add_column("IV at entry (source)")
    table.add_column("last known IV (source)")
    for i, leg in enumerate(record.position.legs):
        c = leg.contract
        key = (c.right, c.strike, c.expiry.isoformat())
        table.add_row(
            str(i + 1),
            f"{leg.action} ×{leg.ratio}",
            "put" if c.right == "P" else "call",
            f"{c.strike:g}",
            c.expiry.isoformat(),
            num(first.get(key), ".4f"),
            num(latest.get(key), ".4f"),
            f"{num(entry[i].iv * 100, '.1f')} % ({entry[i].source})",
            f"{num(last[i].iv * 100, '.1f')} % ({last[i].source})",
        )
    return table


def _leg_prices(fill: dict[str, Any]) -> dict[tuple[str, float, str], float]:
    out = {}
    for raw in fill.get("legs") or []:
        try:
            out[(raw["right"], float(raw["strike"]), raw["expiry"])] = float(raw["price"])
        except (KeyError, TypeError, ValueError):
            continue
    return out


def greeks_section(record: PositionRecord, market: Market) -> RenderableType:
    """Return the structure's greeks per leg, per unit and for the position, with the source."""
    if market.problem:
        return Text(f"greeks: unknown — {market.problem}", style="yellow")
    g = structure_greeks(record, market.rate, market.dividend)
    if g is None:
        return Text(
            "greeks: unknown — no spot was ever journaled for this position", style="yellow"
        )
    pos = record.position
    qty = pos.open_qty or pos.opened_qty
    table = Table(title="greeks of the structure", title_justify="left", header_style="bold")
    for col in ("", "delta", "gamma", "theta / day", "vega / vol pt"):
        table.add_column(col, justify="left" if not col else "right")
    for i, leg in enumerate(pos.legs):
        row = g.per_leg[i]
        table.add_row(
            f"{leg.action} {leg.contract.strike:g}{leg.contract.right}",
            *_greek_cells(row, 1.0),
        )
    table.add_row("structure, per share", *_greek_cells(g.total, 1.0), style="bold")
    scale = pos.multiplier * qty
    table.add_row(
        f"position ({qty} × {pos.multiplier}), $", *_greek_cells(g.total, scale), style="bold cyan"
    )
    note = Text(f"source: {g.source}", style="grey62")
    unknown = [
        f"{leg.contract.strike:g}{leg.contract.right}"
        for leg, row in zip(pos.legs, g.per_leg, strict=True)
        if not all(math.isfinite(v) for v in row.values())
    ]
    if unknown:
        note.append(f"; unknown for {', '.join(unknown)} (no IV known), so for the structure")
    return Group(table, note)


def _greek_cells(row: dict[str, float], scale: float) -> list[str]:
    values = {k: row[k] * scale for k in GREEKS}
    return [
        num(values["delta"], "+.3f"),
        num(values["gamma"], "+.4f"),
        num(values["theta"] / 365.0, "+.4f"),
        num(values["vega"] / 100.0, "+.4f"),
    ]


def touch_section(record: PositionRecord, market: Market) -> RenderableType:
    """Return each short strike's probability of being touched before expiry."""
    seen = spots(record)
    if market.problem or not seen:
        why = market.problem or "no spot was ever journaled"
        return Text(f"probability of touch: unknown — {why}", style="yellow")
    ref = seen[-1]
    ivs = last_ivs(record, market.rate, market.dividend)
    table = Table(title="probability of touch", title_justify="left", header_style="bold")
    for col in ("short strike", "distance", "P(touch before expiry)"):
        table.add_column(col, justify="right")
    for leg, p in touch_odds(record, ivs, ref, market.rate, market.dividend):
        k = leg.contract.strike
        table.add_row(
            f"{k:g}{leg.contract.right}",
            f"{100 * (k - ref.spot) / ref.spot:+.1f} %",
            Text(f"{num(p * 100, '.0f')} %", style="red" if p >= 0.5 else "green"),
        )
    note = Text(
        f"from spot {ref.spot:g} at {_when(ref.ts)} with the last known IVs "
        "(risk-neutral first passage, pricing.prob_touch)",
        style="grey62",
    )
    return Group(table, note)


def payoff_section(
    record: PositionRecord, market: Market, tx_days: float | None, width: int
) -> RenderableType:
    """Return the payoff chart: at expiry, T+0 and T+X (repriced at the entry IVs), in $."""
    pos = record.position
    legs = pos.legs
    qty = pos.open_qty or pos.opened_qty
    scale = pos.multiplier * qty
    strikes = sorted({leg.contract.strike for leg in legs})
    seen = spots(record)
    spot = seen[-1].spot if seen else None
    lo, hi = min([*strikes, spot or strikes[0]]), max([*strikes, spot or strikes[-1]])
    pad = max((hi - lo) * 0.25, (spot or hi) * 0.03)
    cols = max(40, width - AXIS_WIDTH - 4)
    xs = np.linspace(lo - pad, hi + pad, cols)
    expiry_at = first_expiry_close(legs)
    single = len({leg.contract.expiry for leg in legs}) == 1
    notes: list[str] = []
    series: list[Series] = []
    entry = entry_ivs(record, market.rate, market.dividend) if not market.problem else {}
    if single:
        at_expiry = pnl_at_expiry(legs, pos.entry_price, xs) * scale
    elif entry:
        at_expiry = (
            value_at(legs, entry, xs, expiry_at, market.rate, market.dividend) - pos.entry_price
        ) * scale
        notes.append("at expiry = at the nearest expiry, later legs at their entry IVs")
    else:
        at_expiry = np.full_like(xs, np.nan)
    unknown = [i for i, iv in entry.items() if not math.isfinite(iv.iv)]
    if market.problem or not seen or unknown:
        why = market.problem or ("no spot journaled" if not seen else "an entry IV is unknown")
        notes.append(f"T+0 / T+X not drawn: {why}")
    else:
        t0 = seen[-1].ts
        days = tx_days if tx_days is not None else _default_tx(record, market, t0)
        tx = horizon(t0, legs, days)
        for label, char, style, when in (
            (f"T+{(tx - t0).total_seconds() / 86400:.0f} ({_when(tx)})", "+", "magenta", tx),
            (f"T+0 ({_when(t0)})", "*", "cyan", t0),
        ):
            ys = (
                value_at(legs, entry, xs, when, market.rate, market.dividend) - pos.entry_price
            ) * scale
            series.append(Series(label, char, style, ys))
    series.append(Series(f"at expiry ({expiry_at:%Y-%m-%d})", "█", "bold white", at_expiry))
    chart = line_chart(xs, series, cols, CHART_HEIGHT, marks=strikes, spot=spot, y_unit=" $")
    legend = Text("   ".join(f"{s.char} {s.label}" for s in reversed(series)))
    legend.append(f"   │/S spot {num(spot, 'g')}   ┬ strikes {' '.join(f'{k:g}' for k in strikes)}")
    foot = Text(
        f"P&L in {pos.currency} for {qty} unit(s) × {pos.multiplier}, before commissions; "
        "T+0/T+X repriced with Black-Scholes at the entry IVs"
        + ("; " + "; ".join(notes) if notes else ""),
        style="grey62",
    )
    return Panel(Group(chart, legend, foot), title="payoff", border_style="#30363d")


def _default_tx(record: PositionRecord, market: Market, t0: datetime) -> float:
    """Return days from T+0 to the manage_dte date, else half the days left (at least 1)."""
    left = (first_expiry_close(record.position.legs) - t0).total_seconds() / 86400
    if market.manage_dte is not None and left - market.manage_dte >= 1:
        return float(math.floor(left - market.manage_dte))
    return max(1.0, math.floor(left / 2))


def confidence_section(record: PositionRecord, width: int) -> RenderableType:
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
        f"  (min {min(scores):.0f}, max {max(scores):.0f}; {len(scores)} polls from "
        f"{short_ts(lines[0]['ts'])} to {short_ts(last['ts'])})"
    )
    lo, hi = max(0.0, min(scores) - 5), min(100.0, max(scores) + 5)
    spark = Text(sparkline(scores, max(20, width - 30), lo, hi), style=score_style(scores[-1]))
    spark.append(f"  (scale {lo:.0f}–{hi:.0f})", style="grey62")
    table = Table(header_style="bold", box=None, padding=(0, 1))
    for col in ("time", "DTE", "spot", "P&L/sh", "score", "worrying"):
        table.add_column(col, justify="left" if col in ("time", "worrying") else "right")
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
    latest = Text("latest badges: ")
    latest.append_text(badges(list(last.get("reassuring") or []), list(last.get("worrying") or [])))
    return Panel(
        Group(head, spark, table, latest), title="confidence history", border_style="#30363d"
    )


def history_section(record: PositionRecord) -> RenderableType:
    """Return every decision, order, status, fill, post-trade and risk line of the position."""
    body = [
        render_line(record.folder, e.line)
        for e in record.entries
        if e.line.get("event") in ORDER_EVENTS
    ]
    return Panel(
        Group(*body) if body else Text("none"), title="decisions and orders", border_style="#30363d"
    )


def render_position(
    record: PositionRecord, cfg: Any, tx_days: float | None = None, width: int = 120
) -> list[RenderableType]:
    """Return every section of `seeker show` for one position."""
    market = Market(record, cfg)
    r, q = market.rate, market.dividend
    entry = entry_ivs(record, r, q)
    last = last_ivs(record, r, q)
    if record.position.opened_qty == 0:
        why = f"never filled ({record.position.status}): no greeks, touch odds or payoff"
        return [
            facts(record),
            legs_table(record, entry, last),
            Text(why, style="yellow"),
            history_section(record),
        ]
    return [
        facts(record),
        legs_table(record, entry, last),
        greeks_section(record, market),
        touch_section(record, market),
        payoff_section(record, market, tx_days, width),
        confidence_section(record, width),
        history_section(record),
    ]
