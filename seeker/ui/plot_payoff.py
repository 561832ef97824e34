"""A position's payoff as a picture: at expiry, T+0 and T+X, breakevens and extremes marked.

The same numbers as ``seeker show`` (``payoff_view.payoff_curves``: the exact piecewise-linear
payoff at expiry of a single-expiry structure, Black-Scholes at the IVs `show` names for
T+0/T+X), on a finer grid.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from seeker.ui.greeks import chosen_ivs
from seeker.ui.names import plural
from seeker.ui.payoff_view import PayoffCurves, payoff_curves
from seeker.ui.plot_style import (
    BLUE,
    CYAN,
    GREEN,
    GREY,
    LIGHT,
    MAGENTA,
    RED,
    YELLOW,
    new_figure,
    style_axes,
)
from seeker.ui.position import PositionRecord
from seeker.ui.show import Market

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

POINTS = 600
"""Underlying prices the curves are computed at."""

CURVE_LOOK = {
    "expiry": {"color": "#1f2328", "linewidth": 2.2, "linestyle": "-"},
    "t0": {"color": CYAN, "linewidth": 1.5, "linestyle": "--"},
    "tx": {"color": MAGENTA, "linewidth": 1.5, "linestyle": ":"},
}


def _money(value: float, currency: str) -> str:
    return f"{value:+.2f} {currency}" if math.isfinite(value) else "unbounded"


def _mark_points(ax: Axes, pc: PayoffCurves) -> list[str]:
    """Mark breakevens and extremes on the chart; return the legend lines for them."""
    kp = pc.points
    if kp is None:
        return []
    about = "" if kp.exact else "≈ "
    for b in kp.breakevens:
        if pc.xs[0] <= b <= pc.xs[-1]:
            ax.plot([b], [0.0], marker="D", color=YELLOW, markersize=7, zorder=5)
            ax.annotate(
                f"{b:.2f}",
                (b, 0.0),
                xytext=(0, -14),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=YELLOW,
            )
    for value, at, marker, colour, name in (
        (kp.max_profit, kp.profit_at, "^", GREEN, "max profit"),
        (kp.max_loss, kp.loss_at, "v", RED, "max loss"),
    ):
        if math.isfinite(value) and at is not None:
            ax.plot([at], [value], marker=marker, color=colour, markersize=9, zorder=5)
            ax.annotate(
                f"{name} {about}{_money(value, pc.currency)}",
                (at, value),
                xytext=(8, 6 if value >= 0 else -12),
                textcoords="offset points",
                fontsize=8,
                color=colour,
            )
    bes = " · ".join(f"{b:.2f}" for b in kp.breakevens) or "none"
    return [
        f"breakevens {about}{bes}",
        f"max profit {about}{_money(kp.max_profit, pc.currency)}",
        f"max loss {about}{_money(kp.max_loss, pc.currency)}",
    ]


def payoff_figure(record: PositionRecord, cfg: Any, tx_days: float | None = None) -> Figure:
    """Return the payoff picture of a journaled position (`cfg`: the validated config)."""
    market = Market(record, cfg)
    ivs = chosen_ivs(record, market.rate, market.dividend)
    pc = payoff_curves(
        record,
        ivs,
        market.problem,
        market.rate,
        market.dividend,
        market.manage_dte,
        tx_days,
        POINTS,
    )
    fig = new_figure(9.0, 5.4)
    ax = fig.subplots()
    order = record.open_order
    what = (order.get("meta") or {}).get("label") or order.get("reason") or ""
    fig.suptitle(f"{record.position_id} · {record.folder} · {what}", fontsize=11, fontweight="bold")
    for k in pc.strikes:
        ax.axvline(k, color=LIGHT, linewidth=0.9, zorder=0)
    if pc.spot is not None:
        ax.axvline(pc.spot, color=BLUE, linewidth=1.0, linestyle="-.", label=f"spot {pc.spot:g}")
    ax.axhline(0.0, color=GREY, linewidth=0.8)
    for curve in pc.curves:
        if np.isfinite(curve.ys).any():
            ax.plot(pc.xs, curve.ys, label=curve.label, **CURVE_LOOK[curve.kind])
    expiry = pc.curves[-1].ys
    if np.isfinite(expiry).any():
        ax.fill_between(pc.xs, expiry, 0.0, where=expiry >= 0, color=GREEN, alpha=0.08)
        ax.fill_between(pc.xs, expiry, 0.0, where=expiry < 0, color=RED, alpha=0.08)
    facts = _mark_points(ax, pc)
    ax.set_xlabel(f"{record.position.underlying} at the time shown (strikes as grey lines)")
    ax.set_ylabel(f"P&L ({pc.currency}, whole position)")
    style_axes(ax)
    ax.legend(loc="best", fontsize=8, frameon=False)
    foot = (
        f"P&L for {plural(pc.qty, 'unit')} × {pc.multiplier}, before commissions; "
        f"T+0/T+X repriced with Black-Scholes at the {pc.ivs_label}"
        + ("; " + "; ".join(pc.notes) if pc.notes else "")
    )
    fig.text(0.01, 0.005, "   ".join(facts) + "\n" + foot, fontsize=7.5, color=GREY, va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    return fig
