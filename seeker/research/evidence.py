"""What grading a study found, as data: stored with the study, read by the report and the export.

Every figure is in $ (after commissions) or an annual Sharpe ratio of the P&L booked per session,
unless its name says otherwise. Dates are New York session dates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from seeker.research.grade import GradeCard


class Record(BaseModel):
    """Base of the evidence records: frozen, no unknown field, JSON round trip."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CurvePoint(Record):
    """Cumulative P&L ($) at the end of one session."""

    day: date
    pnl: float


class FoldResult(Record):
    """One walk-forward fold: the trial its in-sample window selected, and how that trial did."""

    index: int
    is_first: date
    is_last: date
    oos_first: date
    oos_last: date
    trial: int
    point: dict[str, Any]
    is_sharpe: float
    is_pnl: float
    is_trades: int
    oos_sharpe: float
    oos_pnl: float
    oos_trades: int
    is_curve: list[CurvePoint]
    oos_curve: list[CurvePoint]


class DsrResult(Record):
    """The Deflated Sharpe Ratio of the candidate's selection (per-session figures)."""

    dsr: float
    sharpe: float
    n_obs: int
    n_trials: int
    trials_sharpe_variance: float
    expected_max_sharpe: float
    skewness: float
    kurtosis: float
    note: str


class BootstrapSummary(Record):
    """A block bootstrap of the out-of-sample trades' P&L, in trade order."""

    n_trades: int
    method: str
    block_length: float
    resamples: int
    probability_of_loss: float
    total_pnl_p5: float
    total_pnl_p50: float
    total_pnl_p95: float
    max_drawdown_p50: float
    max_drawdown_p95: float
    sharpe_p5: float | None
    sharpe_p50: float | None


class NeighbourResult(Record):
    """One perturbed point around the candidate and its objective (a real run per source)."""

    param: str
    shift: str
    value: Any
    objective: float | None
    kept: bool | None
    note: str


class StabilityResult(Record):
    """How the objective held when the candidate's parameters moved ±10 % / ±20 %."""

    measured: bool
    chosen_objective: float
    keep_ratio: float
    kept_share: float | None
    worst_relative_drop: float | None
    neighbours: list[NeighbourResult]
    untested: list[str]
    note: str


REGIME_COLUMNS = (
    "regime",
    "trial",
    "parameters",
    "IS trades",
    "IS Sharpe",
    "IS P&L $",
    "OOS trades",
    "OOS P&L $",
    "note",
)
"""The columns a table of `RegimeCell`s shows, in order (terminal and HTML report alike)."""


class RegimeCell(Record):
    """The parameters that did best in one regime at entry, with each cell's trade counts."""

    regime: str
    trial: int | None
    point: dict[str, Any] | None
    is_trades: int
    is_sharpe: float | None
    is_pnl: float | None
    oos_trades: int | None
    oos_pnl: float | None
    note: str


class Evaluation(Record):
    """Everything the grade was made of, and the grade."""

    study: str
    strategy: str
    trials_completed: int
    trials_pruned: int
    trials_failed: int
    trials_interrupted: int = 0
    """Trials a stopped search left running: failed, and their points run again on resume."""
    candidate_trial: int
    candidate_point: dict[str, Any]
    search_best_trial: int
    search_best_value: float
    folds: list[FoldResult]
    is_sharpe: float
    oos_sharpe: float
    oos_pnl: float
    oos_trades: int
    oos_open_at_end: int
    dsr: DsrResult
    bootstrap: BootstrapSummary | None
    bootstrap_note: str
    stability: StabilityResult
    card: GradeCard
    regimes: list[RegimeCell]
    notes: list[str]
