"""Parameters by regime at entry (spec v1.1): which trial did best in each regime, and on how much.

Every trade carries the regime class it was opened in (``range · IVR high``, ``trend up · IVR
high``…, from the ORDER's ``meta.regime_labels``). For each class met in the candidate's selection
window, the completed trial with the best annual Sharpe over that class's trades alone is kept,
among the trials with at least `min_trades` trades there; a class where no trial reaches that count
is a cell that says so, with the largest count any trial had, and no parameters. A kept cell is
then judged on the out-of-sample windows: its point's trades in that class there.

The engine runs one table per strategy, so the cells are research findings to read, not a config
that switches parameters by regime; a run of one point also shapes which trades the other regimes
get (positions held, caps used).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from seeker.research.evidence import RegimeCell
from seeker.research.pool import PoolTrial, RunCache, Source, series, trades
from seeker.research.runs import RunResult, TradeRecord, annual_sharpe
from seeker.research.study import point_json

Days = Callable[[str], Sequence[date]]


class FoldDays(Protocol):
    """What regime cells need of the folds: out-of-sample sessions per fold and source."""

    def oos_days(self, k: int) -> Days:
        """Return fold k's out-of-sample sessions, by source key."""
        ...


@dataclass(frozen=True)
class RegimePlan:
    """The trial a regime class selected (None when too few trades), with its in-sample figures."""

    regime: str
    trial: PoolTrial | None
    is_trades: int
    is_sharpe: float | None
    is_pnl: float | None
    most_trades: int


def _in(regime: str) -> Callable[[TradeRecord], bool]:
    return lambda t: t.regime == regime


def plan_regimes(
    pool: Sequence[PoolTrial], sources: Sequence[Source], days: Days, min_trades: int
) -> list[RegimePlan]:
    """Return one plan per regime class met in `days`, classes sorted by name."""
    classes = sorted(
        {t.regime for trial in pool for src in sources for t in trades([trial.runs[src.key]], days)}
    )
    plans = []
    for regime in classes:
        keep = _in(regime)
        scored = []
        most = 0
        for trial in pool:
            runs = [trial.runs[src.key] for src in sources]
            n = len(trades(runs, days, keep))
            most = max(most, n)
            if n >= min_trades:
                pnl = series(runs, days, keep)
                scored.append((annual_sharpe(pnl), -trial.number, trial, n, float(pnl.sum())))
        if not scored:
            plans.append(RegimePlan(regime, None, 0, None, None, most))
            continue
        sharpe, _neg, trial, n, pnl = max(scored, key=lambda x: (x[0], x[1]))
        plans.append(RegimePlan(regime, trial, n, sharpe, round(pnl, 6), most))
    return plans


def regime_cells(
    plans: Sequence[RegimePlan],
    cache: RunCache,
    test_sources: Sequence[Source],
    windows: FoldDays,
    n_folds: int,
) -> list[RegimeCell]:
    """Return the table's cells: each class's point and trade counts in and out of sample."""
    cells = []
    for plan in plans:
        if plan.trial is None:
            cells.append(
                RegimeCell(
                    regime=plan.regime,
                    trial=None,
                    point=None,
                    is_trades=plan.most_trades,
                    is_sharpe=None,
                    is_pnl=None,
                    oos_trades=None,
                    oos_pnl=None,
                    note=f"too few trades: at most {plan.most_trades} in this regime for any "
                    "trial, no parameters chosen",
                )
            )
            continue
        runs: list[RunResult] = cache.runs(plan.trial.point, test_sources)
        keep = _in(plan.regime)
        oos = [t for k in range(n_folds) for t in trades(runs, windows.oos_days(k), keep)]
        cells.append(
            RegimeCell(
                regime=plan.regime,
                trial=plan.trial.number,
                point=point_json(plan.trial.point),
                is_trades=plan.is_trades,
                is_sharpe=plan.is_sharpe,
                is_pnl=plan.is_pnl,
                oos_trades=len(oos),
                oos_pnl=round(sum(t.net_pnl for t in oos), 6),
                note="",
            )
        )
    return cells
