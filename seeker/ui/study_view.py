"""Terminal views of an optimisation study: its progress bar and its graded summary tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from seeker.research.evidence import REGIME_COLUMNS, Evaluation

PHASES = {"search": "trials", "evaluate": "grading runs"}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


class StudyProgress:
    """A rich progress bar per phase (trials done, best value, ETA) in a terminal; else lines."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._last: dict[str, tuple[int, int]] = {}

    def __enter__(self) -> StudyProgress:
        if self.live:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("best {task.fields[best]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, phase: str, done: int, total: int, best: float | None) -> None:
        """Show that `done` of `total` items of `phase` are finished (best objective so far)."""
        best_text = "—" if best is None else f"{best:.4g}"
        if self._bar is None:
            if self._last.get(phase) != (done, total):
                self._last[phase] = (done, total)
                tail = f", best {best_text}" if phase == "search" else ""
                self.console.print(
                    f"{PHASES.get(phase, phase)} {done}/{total}{tail}",
                    highlight=False,
                    markup=False,
                )
            return
        if phase not in self._tasks:
            self._tasks[phase] = self._bar.add_task(PHASES.get(phase, phase), total=total, best="—")
        self._bar.update(self._tasks[phase], completed=done, total=total, best=best_text)


def print_evaluation(
    console: Console, ev: Evaluation, sources: str, base: Mapping[str, Any]
) -> None:
    """Print the study's graded summary: folds, candidate, grade card, DSR, bootstrap, regimes.

    `sources` describes the market sources; `base` maps each parameter to its config value.
    """
    console.print(
        f"study {ev.study} · {ev.strategy} · {ev.trials_completed} trials completed, "
        f"{ev.trials_pruned} refused by the config model, {ev.trials_failed} failed"
        + (
            f", {ev.trials_interrupted} interrupted (their points run again)"
            if ev.trials_interrupted
            else ""
        )
        + f" · {sources}",
        highlight=False,
        markup=False,
    )
    folds = Table(
        title="walk-forward: the trial each in-sample window selected, judged out of sample"
    )
    for col in (
        "fold",
        "in sample",
        "out of sample",
        "trial",
        "IS Sharpe",
        "IS trades",
        "OOS Sharpe",
        "OOS P&L $",
        "OOS trades",
    ):
        dates = col in ("in sample", "out of sample")
        # dates and names are never cut: at 80 columns they wrap at the arrow instead
        folds.add_column(col, justify="left" if dates else "right", min_width=10 if dates else None)
    for f in ev.folds:
        folds.add_row(
            str(f.index),
            f"{f.is_first} → {f.is_last}",
            f"{f.oos_first} → {f.oos_last}",
            f"#{f.trial}",
            f"{f.is_sharpe:.2f}",
            str(f.is_trades),
            f"{f.oos_sharpe:.2f}",
            f"{f.oos_pnl:.2f}",
            str(f.oos_trades),
        )
    console.print(folds)
    cand = Table(title=f"candidate: trial #{ev.candidate_trial} (the last fold's selection)")
    cand.add_column("parameter")
    cand.add_column("config", justify="right")
    cand.add_column("candidate", justify="right")
    for name, value in ev.candidate_point.items():
        cand.add_row(Text(name), Text(_fmt(base.get(name))), Text(_fmt(value)))
    console.print(cand)
    card = Table(title="grade card")
    for col in ("criterion", "raw", "score", "weight", "points", "rule", "note"):
        card.add_column(
            col,
            justify="right" if col in ("raw", "score", "weight", "points") else "left",
            no_wrap=col == "criterion",
            min_width=len("oos_is_ratio") if col == "criterion" else None,
        )
    for c in ev.card.criteria:
        card.add_row(
            c.name,
            _fmt(c.raw),
            f"{c.score:.2f}",
            f"{c.weight:.2f}",
            f"{c.contribution:.3f}",
            Text(c.rule),
            Text(c.note),
        )
    console.print(card)
    console.print(
        f"grade {ev.card.grade} (score {ev.card.score:.3f} → {ev.card.score_letter}); "
        f"OOS: {ev.oos_trades} trades, {ev.oos_pnl:.2f} $, Sharpe {ev.oos_sharpe:.2f}; "
        f"IS Sharpe {ev.is_sharpe:.2f}",
        highlight=False,
        markup=False,
    )
    for reason in ev.card.reasons:
        console.print(f"  {reason}", highlight=False, markup=False)
    d = ev.dsr
    console.print(
        f"DSR {d.dsr:.4f}: per-session Sharpe {d.sharpe:.4f} vs E[max] {d.expected_max_sharpe:.4f} "
        f"of {d.n_trials} trials (variance {d.trials_sharpe_variance:.3g}), {d.n_obs} sessions, "
        f"skew {d.skewness:.2f}, kurtosis {d.kurtosis:.2f} — {d.note}",
        highlight=False,
        markup=False,
    )
    b = ev.bootstrap
    if b is None:
        console.print(f"bootstrap: {ev.bootstrap_note}", highlight=False, markup=False)
    else:
        console.print(
            f"bootstrap ({b.method}, mean block {b.block_length:.1f} trades, {b.resamples} "
            f"resamples of {b.n_trades} OOS trades): P(loss) {b.probability_of_loss:.0%}, total "
            f"P&L 5/50/95 % {b.total_pnl_p5:.2f} / {b.total_pnl_p50:.2f} / {b.total_pnl_p95:.2f} $,"
            f" max drawdown median {b.max_drawdown_p50:.2f} $, 95 % {b.max_drawdown_p95:.2f} $",
            highlight=False,
            markup=False,
        )
    console.print(f"stability: {ev.stability.note}", highlight=False, markup=False)
    if ev.regimes:
        reg = Table(title="parameters by regime at entry (selection window, in-sample sources)")
        for col in REGIME_COLUMNS:
            reg.add_column(col)
        for cell in ev.regimes:
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in (cell.point or {}).items())
            reg.add_row(
                Text(cell.regime),
                "—" if cell.trial is None else f"#{cell.trial}",
                Text(params or "—"),
                str(cell.is_trades),
                _fmt(cell.is_sharpe),
                _fmt(cell.is_pnl),
                _fmt(cell.oos_trades),
                _fmt(cell.oos_pnl),
                Text(cell.note),
            )
        console.print(reg)
    for note in ev.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
