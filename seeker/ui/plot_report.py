"""Pictures of the summary: the equity curve with its drawdown, and P&L by strategy and regime.

Every number comes from ``seeker.reports`` (the figures ``seeker summary`` prints); each
currency is drawn apart, never converted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from seeker.core.journal import SHADOW_SUFFIX
from seeker.reports.equity import EquityCurve, equity_curves
from seeker.reports.summary import Section, Stats
from seeker.ui.plot_style import BLUE, GREEN, GREY, MAGENTA, RED, new_figure, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CURRENCY_COLOURS = (BLUE, MAGENTA, GREY)


def equity_figure(section: Section, title: str) -> Figure:
    """Return the equity curve (top) and drawdown (bottom) of a section's closed trades."""
    curves = equity_curves(section.trades)
    fig = new_figure(9.0, 5.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    fig.suptitle(title, fontsize=12, fontweight="bold")
    if not curves:
        top.text(0.5, 0.5, "no closed trade yet", ha="center", va="center", color=GREY)
    for i, curve in enumerate(curves):
        _draw_equity(top, bottom, curve, CURRENCY_COLOURS[i % len(CURRENCY_COLOURS)])
    top.axhline(0.0, color=GREY, linewidth=0.8)
    top.set_ylabel("equity ($, after commissions)")
    bottom.set_ylabel("drawdown ($)")
    for ax in (top, bottom):
        style_axes(ax)
    if curves:
        top.legend(loc="best", frameon=True, framealpha=0.9, edgecolor="none")
        bottom.legend(loc="lower left", frameon=False)
    fig.autofmt_xdate()
    return fig


def _draw_equity(top: Axes, bottom: Axes, curve: EquityCurve, colour: str) -> None:
    trades = len(curve.equity) - 1
    final = curve.equity[-1]
    top.step(
        curve.times,
        curve.equity,
        where="post",
        color=colour,
        linewidth=1.8,
        label=f"{curve.currency}: {trades} trades, {final:+.2f}",
    )
    top.scatter(curve.times[1:], curve.equity[1:], s=9, color=colour, zorder=3)
    below = [-d for d in curve.drawdown]
    bottom.fill_between(curve.times, below, 0.0, step="post", color=RED, alpha=0.25, linewidth=0)
    bottom.step(
        curve.times,
        below,
        where="post",
        color=RED,
        linewidth=1.0,
        label=f"{curve.currency}: max drawdown {curve.max_drawdown:.2f}",
    )


def _label(stats: Stats, currencies: int) -> str:
    key = stats.key.replace(SHADOW_SUFFIX, "")
    return f"{key} ({stats.currency})" if currencies > 1 else key


def _bars(ax: Axes, rows: Sequence[Stats], title: str) -> None:
    currencies = len({r.currency for r in rows})
    labels = [_label(r, currencies) for r in rows]
    values = [r.net_pnl for r in rows]
    colours = [GREEN if v > 0 else RED for v in values]
    ys = list(range(len(rows)))
    ax.barh(ys, values, color=colours, height=0.6)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0.0, color=GREY, linewidth=0.8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("net P&L ($, after commissions)")
    span = max((abs(v) for v in values), default=1.0) or 1.0
    for y, r in zip(ys, rows, strict=True):  # the figures sit across zero from the bar
        text = f" {r.net_pnl:+.2f} · {r.trades} tr, {100 * r.win_rate:.0f} % won "
        ax.text(
            0.0,
            y,
            text,
            va="center",
            ha="left" if r.net_pnl < 0 else "right",
            fontsize=7,
            color=GREY,
        )
    ax.set_xlim(-1.15 * span, 1.15 * span)
    style_axes(ax)
    if not rows:
        ax.text(
            0.5,
            0.5,
            "no closed trade yet",
            ha="center",
            va="center",
            color=GREY,
            transform=ax.transAxes,
        )


def pnl_figure(section: Section, title: str) -> Figure:
    """Return net P&L bars by strategy (left) and by regime at entry (right)."""
    by_strategy = section.breakdown("strategy")
    by_regime = section.breakdown("regime")
    rows = max(len(by_strategy), len(by_regime), 1)
    fig = new_figure(11.0, max(3.2, 1.2 + 0.38 * rows))
    left, right = fig.subplots(1, 2, width_ratios=(1, 1.25))
    fig.suptitle(title, fontsize=12, fontweight="bold")
    _bars(left, by_strategy, "by strategy")
    _bars(right, by_regime, "by regime at entry (trend or structure · IV rank)")
    return fig
