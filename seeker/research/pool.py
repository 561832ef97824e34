"""The trials a study completed, their runs, and the extra runs grading made, as one lookup.

Grading needs runs the search did not make: the selected points on the out-of-sample sources, the
perturbed neighbours of the candidate, the regimes' points. Those are stored as study attributes
(``run:<hash>`` → point, source and run), so a report, an export or a resumed grading never runs
the same point on the same market twice: the engine is deterministic, so a stored run *is* that run.
`Windows` cuts each market source's graded sessions into the study's folds once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import optuna

from seeker.research.folds import Fold
from seeker.research.runs import RunResult, TradeFilter, TradeRecord, trades_in, window_pnl
from seeker.research.sources import ReplaySource, SimSource
from seeker.research.space import ParamValue, SearchSpace
from seeker.research.study import StudySetup, completed, point_json, point_key, runs_of

EXTRA_RUN_PREFIX = "run:"

Days = Callable[[str], Sequence[date]]
"""The sessions of a window, by market source key."""
Source = SimSource | ReplaySource


@dataclass(frozen=True)
class PoolTrial:
    """A completed trial: its number, point and runs by source key."""

    number: int
    point: dict[str, ParamValue]
    runs: Mapping[str, RunResult]

    @property
    def key(self) -> str:
        """Return the point's canonical text."""
        return point_key(self.point)


def pool_of(study: optuna.Study, space: SearchSpace) -> list[PoolTrial]:
    """Return the study's completed trials, by number."""
    return [
        PoolTrial(t.number, space.from_optuna(t.params), {r.source: r for r in runs_of(t)})
        for t in completed(study)
    ]


def _attr_key(key: str, source: str) -> str:
    digest = hashlib.sha256(f"{key}|{source}".encode()).hexdigest()[:24]
    return f"{EXTRA_RUN_PREFIX}{digest}"


class RunCache:
    """Every run a study holds: its trials' and the extra ones, by (point, source)."""

    def __init__(self, study: optuna.Study, pool: Iterable[PoolTrial]) -> None:
        self.study = study
        self._runs: dict[tuple[str, str], RunResult] = {}
        for trial in pool:
            for source, run in trial.runs.items():
                self._runs.setdefault((trial.key, source), run)
        for name, value in study.user_attrs.items():
            if name.startswith(EXTRA_RUN_PREFIX) and isinstance(value, dict):
                run = RunResult.from_json(value["run"])
                self._runs.setdefault((str(value["key"]), run.source), run)

    def get(self, point: Mapping[str, ParamValue], source: str) -> RunResult | None:
        """Return the run of `point` on `source`, if the study holds it."""
        return self._runs.get((point_key(point), source))

    def put(self, point: Mapping[str, ParamValue], run: RunResult) -> None:
        """Store an extra run in the study."""
        key = point_key(point)
        self._runs[(key, run.source)] = run
        self.study.set_user_attr(
            _attr_key(key, run.source),
            {"key": key, "point": point_json(point), "run": run.to_json()},
        )

    def runs(self, point: Mapping[str, ParamValue], sources: Sequence[Source]) -> list[RunResult]:
        """Return the runs of `point` on every source (KeyError naming the first missing one)."""
        out = []
        for source in sources:
            run = self.get(point, source.key)
            if run is None:
                raise KeyError(f"no run of {point_key(point)} on {source.key}")
            out.append(run)
        return out


def series(runs: Sequence[RunResult], days: Days, keep: TradeFilter | None = None) -> np.ndarray:
    """Return the runs' P&L per session over each one's window, sources one after the other."""
    parts = [window_pnl(run.trades, days(run.source), keep) for run in runs]
    return np.concatenate(parts) if parts else np.zeros(0)


def trades(
    runs: Sequence[RunResult], days: Days, keep: TradeFilter | None = None
) -> list[TradeRecord]:
    """Return the runs' trades opened in each one's window, source by source."""
    out: list[TradeRecord] = []
    for run in runs:
        out.extend(trades_in(run.trades, days(run.source), keep))
    return out


def curve(runs: Sequence[RunResult], days: Days) -> list[tuple[date, float]]:
    """Return the cumulative P&L per session over the windows, all sources added up by date."""
    by_day: dict[date, float] = {}
    for run in runs:
        window = days(run.source)
        for day, pnl in zip(window, window_pnl(run.trades, window), strict=True):
            by_day[day] = by_day.get(day, 0.0) + float(pnl)
    total, out = 0.0, []
    for day in sorted(by_day):
        total += by_day[day]
        out.append((day, round(total, 6)))
    return out


class Windows:
    """The folds' sessions by market source key (cut once per source)."""

    def __init__(self, setup: StudySetup) -> None:
        s = setup.settings
        self.folds = {
            src.key: s.folds.folds(setup.sessions[src.key])
            for src in [*s.sources, *s.test_sources()]
        }

    def is_days(self, k: int) -> DaysOf:
        """Return fold k's in-sample sessions, by source key."""
        return DaysOf(self.folds, k, "in_sample")

    def oos_days(self, k: int) -> DaysOf:
        """Return fold k's out-of-sample sessions, by source key."""
        return DaysOf(self.folds, k, "out_of_sample")


@dataclass(frozen=True)
class DaysOf:
    """One part (in or out of sample) of fold k, as sessions by source key."""

    folds: Mapping[str, tuple[Fold[date], ...]]
    k: int
    part: Literal["in_sample", "out_of_sample"]

    def __call__(self, source: str) -> tuple[date, ...]:
        fold = self.folds[source][self.k]
        return fold.in_sample if self.part == "in_sample" else fold.out_of_sample
