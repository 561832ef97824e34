"""The payoff panel of `seeker show`: at expiry, T+0 and T+X, with breakevens and extremes.

A single-expiry structure's payoff at expiry is exact (``seeker.core.payoff``): breakevens,
max profit and max loss come from its piecewise-linear shape. With several expiries the curve
"at expiry" is the value at the nearest expiry, later legs repriced at the chosen IVs, and its
key points are found numerically on a wide grid (and say ``≈``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from seeker.core.models import Leg
from seeker.core.payoff import (
    best_gain_at_expiry,
    breakevens_at_expiry,
    pnl_at_expiry,
    worst_loss_at_expiry,
)
from seeker.core.tz import MARKET_TZ
from seeker.ui.chart import AXIS_WIDTH, Point, Series, line_chart
from seeker.ui.console import natural
from seeker.ui.greeks import IvSet, first_expiry_close, horizon, spots, value_at
from seeker.ui.lines import num
from seeker.ui.names import plural
from seeker.ui.position import PositionRecord
from seeker.ui.widgets import flow

CHART_HEIGHT = 17
BORDER = "#30363d"
BREAKEVEN = "◆"
MAX_PROFIT = "▲"
MAX_LOSS = "▼"


@dataclass(frozen=True)
class KeyPoints:
    """Breakevens (underlying prices) and the extremes of the P&L at expiry ($, whole position).

    ``*_at`` is where an extreme is reached inside the range drawn (None when outside it);
    `exact` is False when they were found numerically (several expiries).
    """

    breakevens: list[float]
    max_profit: float
    max_loss: float
    profit_at: float | None
    loss_at: float | None
    exact: bool


def _middle_of_run(xs: np.ndarray, ys: np.ndarray, target: float) -> float | None:
    """Return the middle x of the first run of columns where `ys` reaches `target`."""
    tol = max(1e-9, 1e-6 * abs(target))
    hits = np.flatnonzero(np.abs(ys - target) <= tol)
    if hits.size == 0:
        return None
    end = int(hits[0])
    while end + 1 < len(xs) and abs(ys[end + 1] - target) <= tol:
        end += 1
    return float((xs[hits[0]] + xs[end]) / 2)


def _where(
    xs: np.ndarray, ys: np.ndarray, target: float, kinks: np.ndarray, kink_ys: np.ndarray
) -> float | None:
    """Return where the curve reaches `target` inside the range drawn: the middle of a flat
    run of columns, else the kink (strike) where it peaks."""
    found = _middle_of_run(xs, ys, target)
    if found is not None:
        return found
    tol = max(1e-9, 1e-6 * abs(target))
    for k, y in zip(kinks, kink_ys, strict=True):
        if abs(y - target) <= tol and xs[0] <= k <= xs[-1]:
            return float(k)
    return None


def _crossings(xs: np.ndarray, ys: np.ndarray) -> list[float]:
    out = []
    for i in range(len(xs) - 1):
        y0, y1 = float(ys[i]), float(ys[i + 1])
        if y0 == 0.0:
            out.append(float(xs[i]))
        elif y0 * y1 < 0:
            out.append(float(xs[i] + (xs[i + 1] - xs[i]) * (-y0) / (y1 - y0)))
    return out


def key_points(
    legs: Sequence[Leg],
    entry_price: float,
    scale: float,
    xs: np.ndarray,
    at_expiry: np.ndarray,
    wide: tuple[np.ndarray, np.ndarray] | None = None,
) -> KeyPoints:
    """Return the breakevens and extremes of the P&L at expiry (× `scale` for the position).

    `at_expiry` is the curve drawn over `xs`; `wide` (xs, ys) a wider, finer grid of it used
    when the legs have several expiries.
    """
    single = len({leg.contract.expiry for leg in legs}) == 1
    if single:
        bes = breakevens_at_expiry(legs, entry_price)
        best = best_gain_at_expiry(legs, entry_price) * scale
        worst = -worst_loss_at_expiry(legs, entry_price) * scale
        kinks = np.array(sorted({leg.contract.strike for leg in legs}))
        kink_ys = pnl_at_expiry(legs, entry_price, kinks) * scale
        exact = True
    else:
        gx, gy = wide if wide is not None else (xs, at_expiry)
        finite = np.isfinite(gy)
        gx, gy = gx[finite], gy[finite]
        bes = _crossings(gx, gy)
        best = float(np.max(gy)) if gy.size else math.nan
        worst = float(np.min(gy)) if gy.size else math.nan
        kinks, kink_ys = gx, gy
        exact = False
    profit_at = _where(xs, at_expiry, best, kinks, kink_ys) if math.isfinite(best) else None
    loss_at = _where(xs, at_expiry, worst, kinks, kink_ys) if math.isfinite(worst) else None
    return KeyPoints(list(bes), best, worst, profit_at, loss_at, exact)


def _when(ts: datetime) -> str:
    return f"{ts.astimezone(MARKET_TZ):%Y-%m-%d %H:%M}"


def _money(value: float, unit: str) -> str:
    return f"{value:+.2f} {unit}" if math.isfinite(value) else "unbounded"


@dataclass(frozen=True)
class Curve:
    """One payoff curve: its label, what it is (``expiry``, ``t0``, ``tx``) and $ over ``xs``."""

    label: str
    kind: str
    ys: np.ndarray


@dataclass(frozen=True)
class PayoffCurves:
    """A position's payoff at expiry, T+0 and T+X over a range of underlying prices ($).

    ``curves`` run T+X, T+0, then at expiry (the order they are drawn, expiry on top);
    ``points`` is None when nothing could be drawn at expiry; ``notes`` say what is missing.
    """

    xs: np.ndarray
    curves: list[Curve]
    strikes: list[float]
    spot: float | None
    points: KeyPoints | None
    notes: list[str]
    qty: int
    multiplier: int
    currency: str
    ivs_label: str


def payoff_curves(
    record: PositionRecord,
    ivs: IvSet,
    problem: str | None,
    rate: float,
    dividend: float,
    manage_dte: int | None,
    tx_days: float | None,
    columns: int,
) -> PayoffCurves:
    """Return the payoff at expiry, T+0 and T+X (repriced at `ivs`) at `columns` prices, in $.

    `problem` says why the market figures (rate, dividend) are unknown.
    """
    pos = record.position
    legs = pos.legs
    qty = pos.open_qty or pos.opened_qty
    scale = pos.multiplier * qty
    strikes = sorted({leg.contract.strike for leg in legs})
    seen = spots(record)
    spot = seen[-1].spot if seen else None
    expiry_at = first_expiry_close(legs)
    single = len({leg.contract.expiry for leg in legs}) == 1
    notes: list[str] = []
    curves: list[Curve] = []
    usable = problem is None and ivs.complete

    def curve(prices: np.ndarray) -> np.ndarray:
        """Return the P&L at the nearest expiry ($, whole position) at `prices`."""
        if single:
            return pnl_at_expiry(legs, pos.entry_price, prices) * scale
        if not usable:
            return np.full_like(prices, np.nan)
        v = value_at(legs, ivs.ivs, prices, expiry_at, rate, dividend)
        return (v - pos.entry_price) * scale

    wide: tuple[np.ndarray, np.ndarray] | None = None
    if single:
        crossings = breakevens_at_expiry(legs, pos.entry_price)
    else:
        gx = np.linspace(max(0.01, strikes[0] * 0.2), strikes[-1] * 3.0, 4000)
        wide = (gx, curve(gx))
        crossings = _crossings(gx, wide[1]) if usable else []
        if usable:
            notes.append(f"at expiry = at the nearest expiry, later legs at the {ivs.label}")
    anchor = [*strikes, *([spot] if spot else [])]
    near = [b for b in crossings if min(anchor) / 2 <= b <= max(anchor) * 2]
    lo, hi = min(anchor + near), max(anchor + near)
    pad = max((hi - lo) * 0.25, (spot or hi) * 0.03)
    xs = np.linspace(lo - pad, hi + pad, columns)
    at_expiry = curve(xs)
    if not usable or not seen:
        why = problem or ("no spot journaled" if not seen else "an IV is unknown")
        notes.append(f"T+0 / T+X not drawn: {why}")
    else:
        t0 = seen[-1].ts
        days = tx_days if tx_days is not None else default_tx(legs, manage_dte, t0)
        tx = horizon(t0, legs, days)
        for label, kind, when in (
            (f"T+{(tx - t0).total_seconds() / 86400:.0f} ({_when(tx)})", "tx", tx),
            (f"T+0 ({_when(t0)})", "t0", t0),
        ):
            ys = (value_at(legs, ivs.ivs, xs, when, rate, dividend) - pos.entry_price) * scale
            curves.append(Curve(label, kind, ys))
    curves.append(Curve(f"at expiry ({expiry_at:%Y-%m-%d})", "expiry", at_expiry))
    drawn = bool(np.isfinite(at_expiry).any())
    kp = key_points(legs, pos.entry_price, scale, xs, at_expiry, wide) if drawn else None
    return PayoffCurves(
        xs, curves, strikes, spot, kp, notes, qty, pos.multiplier, pos.currency, ivs.label
    )


CURVE_STYLES = {"tx": ("+", "magenta"), "t0": ("*", "cyan"), "expiry": ("█", "bold white")}
"""How each curve is drawn in the terminal: its character and colour."""


def payoff_section(
    record: PositionRecord,
    ivs: IvSet,
    problem: str | None,
    rate: float,
    dividend: float,
    manage_dte: int | None,
    tx_days: float | None,
    width: int | None,
) -> RenderableType:
    """Return the payoff chart: at expiry, T+0 and T+X (repriced at `ivs`), in $.

    `problem` says why the market figures (rate, dividend) are unknown; `width` is the
    console's (None: plain output, a natural width).
    """
    inner = natural(width, 120) - 4  # inside the panel's border and padding
    cols = max(30, inner - AXIS_WIDTH)
    pc = payoff_curves(record, ivs, problem, rate, dividend, manage_dte, tx_days, cols)
    series = [Series(c.label, *CURVE_STYLES[c.kind], c.ys) for c in pc.curves]
    kp = pc.points
    points: list[Point] = []
    y_marks: list[float] = []
    if kp is not None:
        points += [Point(b, 0.0, BREAKEVEN, "bold yellow") for b in kp.breakevens]
        for value, at, char, style in (
            (kp.max_profit, kp.profit_at, MAX_PROFIT, "bold green"),
            (kp.max_loss, kp.loss_at, MAX_LOSS, "bold red"),
        ):
            if math.isfinite(value) and at is not None:  # reached inside the range drawn
                y_marks.append(value)
                points.append(Point(at, value, char, style))
    chart = line_chart(
        pc.xs,
        series,
        cols,
        CHART_HEIGHT,
        marks=pc.strikes,
        spot=pc.spot,
        y_unit=" $",
        y_marks=y_marks,
        points=points,
        x_marks=kp.breakevens if kp is not None else (),
    )
    items = [Text(f"{s.char} {s.label}", style=s.style) for s in reversed(series)]
    items.append(Text(f"│/S spot {num(pc.spot, 'g')}"))
    items.append(Text(f"┬ strikes {' '.join(f'{k:g}' for k in pc.strikes)}"))
    if kp is not None:
        about = "" if kp.exact else "≈ "
        bes = " · ".join(f"{b:.2f}" for b in kp.breakevens) or "none"
        items.append(Text(f"{BREAKEVEN} breakevens {about}{bes}", style="yellow"))
        items.append(
            Text(f"{MAX_PROFIT} max profit {about}{_money(kp.max_profit, '$')}", style="green")
        )
        items.append(Text(f"{MAX_LOSS} max loss {about}{_money(kp.max_loss, '$')}", style="red"))
    legend = flow(items, inner if width is not None else None)
    method = f"T+0/T+X repriced with Black-Scholes at the {ivs.label}"
    notes = pc.notes
    foot = Text(
        f"P&L in {pc.currency} for {plural(pc.qty, 'unit')} × {pc.multiplier}, before "
        f"commissions; {method}" + ("; " + "; ".join(notes) if notes else ""),
        style="grey62",
    )
    return Panel(
        Group(chart, *legend, foot),
        title="payoff",
        border_style=BORDER,
        expand=width is not None,
    )


def default_tx(legs: Sequence[Leg], manage_dte: int | None, t0: datetime) -> float:
    """Return days from T+0 to the manage_dte date, else half the days left (at least 1)."""
    left = (first_expiry_close(legs) - t0).total_seconds() / 86400
    if manage_dte is not None and left - manage_dte >= 1:
        return float(math.floor(left - manage_dte))
    return max(1.0, math.floor(left / 2))
