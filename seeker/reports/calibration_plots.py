"""PNG plots of the calibration: the real chains against the simulator, one figure per shape.

Drawn with matplotlib's Agg backend (files only, no display). Each figure overlays the markets
given, in the order given (the real one first); binned curves are medians of the bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from seeker.research.calibration.stats import DELTA_BINS, DTE_BINS, Measures

COLORS = ("black", "tab:red", "tab:blue", "tab:green")
DPI = 110
MAX_POINTS = 4000
"""Scatter points drawn per market (an even subsample beyond that)."""


def _binned(x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return bin centres and the median of `y` in each bin of `x` (bins without data dropped)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    idx = np.digitize(x, edges) - 1
    centres, medians = [], []
    for b in range(len(edges) - 1):
        sel = idx == b
        if sel.sum() >= 3:
            centres.append(0.5 * (edges[b] + edges[b + 1]))
            medians.append(float(np.median(y[sel])))
    return np.array(centres), np.array(medians)


def _thin(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(arrays[0])
    if n <= MAX_POINTS:
        return arrays
    keep = np.linspace(0, n - 1, MAX_POINTS).astype(int)
    return tuple(a[keep] for a in arrays)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def plot_smile(markets: Sequence[Measures], path: Path) -> Path:
    """IV ÷ ATM IV against standardized log-moneyness at the ~30-day expiry."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    edges = np.linspace(-3.5, 2.5, 25)
    for m, color in zip(markets, COLORS, strict=False):
        x, y = m.smile
        cx, cy = _binned(x, y, edges)
        ax.plot(cx, cy, "-o", ms=3, color=color, label=m.name)
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("ln(K / S) / (ATM IV · √T)")
    ax.set_ylabel("IV / ATM IV")
    ax.set_title("Smile at the expiry nearest 30 days (out-of-the-money side)")
    ax.legend()
    return _save(fig, path)


def plot_term(markets: Sequence[Measures], path: Path) -> Path:
    """ATM IV ÷ 30-day ATM IV against days to expiry."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    edges = np.array([7, 14, 21, 30, 45, 60, 75, 90, 120, 150, 180, 240, 300, 400], dtype=float)
    for m, color in zip(markets, COLORS, strict=False):
        cx, cy = _binned(*m.term, edges)
        ax.plot(cx, cy, "-o", ms=3, color=color, label=m.name)
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("days to expiry")
    ax.set_ylabel("ATM IV / 30-day ATM IV")
    ax.set_title("Term structure (median over days)")
    ax.legend()
    return _save(fig, path)


def plot_spreads(markets: Sequence[Measures], path: Path) -> Path:
    """Bid/ask ÷ mid against |Δ|, and bid/ask against the mid (log-log)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    edges = np.linspace(0.05, 0.5, 10)
    for m, color in zip(markets, COLORS, strict=False):
        absd, mid, rel = m.spread
        cx, cy = _binned(absd, rel, edges)
        left.plot(cx, cy, "-o", ms=3, color=color, label=m.name)
        mid_t, width_t = _thin(mid, rel * mid)
        right.scatter(mid_t, width_t, s=3, alpha=0.3, color=color, label=m.name)
    left.set_xlabel("|Δ| (out of the money)")
    left.set_ylabel("(ask − bid) / mid")
    left.set_title("Relative bid/ask against delta")
    left.legend()
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("mid, $ per share")
    right.set_ylabel("ask − bid, $ per share")
    right.set_title("Bid/ask against price")
    return _save(fig, path)


def plot_liquidity(markets: Sequence[Measures], path: Path) -> Path:
    """Open interest and volume per contract, relative to the reference bucket."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    delta_labels = [f"{lo:.2f}–{hi:.2f}" for lo, hi in DELTA_BINS]
    dte_labels = [f"{lo}–{hi}" for lo, hi in DTE_BINS]
    panels = (
        (axes[0][0], "oi_by_delta", delta_labels, "open interest by |Δ| (20–60 DTE), ÷ ATM"),
        (axes[0][1], "oi_by_dte", dte_labels, "open interest by DTE (|Δ| 0.2–0.5), ÷ 20–60"),
        (axes[1][0], "volume_by_delta", delta_labels, "volume by |Δ| (20–60 DTE), ÷ ATM"),
        (axes[1][1], "volume_by_dte", dte_labels, "volume by DTE (|Δ| 0.2–0.5), ÷ 20–60"),
    )
    width = 0.8 / max(len(markets), 1)
    for ax, attr, labels, title in panels:
        x = np.arange(len(labels))
        for j, (m, color) in enumerate(zip(markets, COLORS, strict=False)):
            ax.bar(x + j * width, getattr(m, attr), width, color=color, label=m.name)
        ax.set_xticks(x + width * (len(markets) - 1) / 2, labels)
        ax.set_title(title, fontsize=10)
        ax.axhline(1.0, color="grey", lw=0.5)
    axes[0][0].legend(fontsize=8)
    return _save(fig, path)


def plot_iv_moves(markets: Sequence[Measures], path: Path) -> Path:
    """Day-to-day change of ln 30-day ATM IV against the day's log return, with OLS lines."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, color in zip(markets, COLORS, strict=False):
        ret, dlv = m.moves
        ok = np.isfinite(ret) & np.isfinite(dlv)
        ax.scatter(100 * ret[ok], dlv[ok], s=8, alpha=0.5, color=color, label=m.name)
        if ok.sum() >= 3:
            slope, icept = np.polyfit(ret[ok], dlv[ok], 1)
            xs = np.linspace(ret[ok].min(), ret[ok].max(), 2)
            ax.plot(100 * xs, slope * xs + icept, color=color, lw=1)
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.axvline(0.0, color="grey", lw=0.5)
    ax.set_xlabel("daily return, %")
    ax.set_ylabel("Δ ln(30-day ATM IV)")
    ax.set_title("Implied vol moves against returns")
    ax.legend()
    return _save(fig, path)


def plot_levels(markets: Sequence[Measures], path: Path) -> Path:
    """30-day ATM IV and trailing realised vol, day by day."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for m, color in zip(markets, COLORS, strict=False):
        iv, rv = m.levels
        ax.plot(100 * iv, "-", color=color, label=f"{m.name}: ATM IV")
        ax.plot(100 * rv, "--", color=color, label=f"{m.name}: realised (21 sessions)")
    ax.set_xlabel("observed day")
    ax.set_ylabel("volatility, %")
    ax.set_title("30-day ATM IV against realised volatility")
    ax.legend(fontsize=8)
    return _save(fig, path)


PLOTS = (
    ("smile.png", plot_smile),
    ("term.png", plot_term),
    ("spreads.png", plot_spreads),
    ("liquidity.png", plot_liquidity),
    ("iv_moves.png", plot_iv_moves),
    ("iv_vs_rv.png", plot_levels),
)


def save_plots(markets: Sequence[Measures], out: Path) -> list[Path]:
    """Write every figure into `out` (created) and return the files."""
    out.mkdir(parents=True, exist_ok=True)
    return [draw(markets, out / name) for name, draw in PLOTS]
