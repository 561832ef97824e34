"""The search: an Optuna study whose every trial is real runs of the strategy, stored in SQLite.

Studies live in one SQLite file under the log folder (``<log_dir>/_research/studies.db``, Optuna's
RDB storage). A study keeps its settings (`StudySettings`) as a study attribute; opening it again
with other settings is refused, naming what differs, and opening it with the same settings resumes
it: trials that were running when it stopped are marked failed and asked again first.

The loop is Optuna's ask-and-tell, run from this process only (one writer for SQLite): a batch of
`settings.batch` trials is asked, their runs (one per in-sample market source) go to the executor,
and the results are told in trial order once the batch is done. With a fixed batch size, the same
settings give the same trials whichever executor ran them (grid and TPE alike). A trial whose point
breaks a rule of the strategy's config model (say a minimum above its maximum) is pruned without a
run, its reason kept in the trial's ``refused`` attribute. A run whose strategy failed fails the
trial. Identical points (TPE may propose one twice) reuse the runs already made.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.samplers import BaseSampler, GridSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState

from seeker.config.strategy import StrategyConfig
from seeker.research.executors import Executor
from seeker.research.runs import RunResult, annual_sharpe, window_pnl
from seeker.research.searchable import apply_point
from seeker.research.settings import StudySettings
from seeker.research.space import (
    ParamValue,
    RangeParam,
    SearchSpace,
    SearchSpaceError,
    choice_key,
)
from seeker.research.trial import TrialJob, trial_config_data

RESEARCH_FOLDER = "_research"
"""Folder of the log directory that holds the studies (not a strategy's journal folder)."""
DATABASE = "studies.db"
SETTINGS_ATTR = "settings"
RUNS_ATTR = "runs"
POINT_ATTR = "point"
REFUSED_ATTR = "refused"
ERROR_ATTR = "error"

Runner = Callable[[TrialJob], RunResult]
"""Makes one run (``functools.partial(run_job, reader=read_trades)``, picklable)."""


class StudyError(ValueError):
    """Raise when a study cannot be opened or run as asked (the CLI exits 2 with the message)."""


class Progress(Protocol):
    """Told how a phase advances: ``search`` counts trials, ``evaluate`` counts runs."""

    def __call__(self, phase: str, done: int, total: int, best: float | None) -> None: ...


def no_progress(phase: str, done: int, total: int, best: float | None) -> None:
    """Ignore progress."""


def storage_path(log_root: Path) -> Path:
    """Return the SQLite file of the studies under `log_root`."""
    return log_root / RESEARCH_FOLDER / DATABASE


def storage(log_root: Path) -> optuna.storages.RDBStorage:
    """Return the Optuna storage of the studies under `log_root` (created when absent)."""
    path = storage_path(log_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.RDBStorage(f"sqlite:///{path.resolve()}")


def study_names(log_root: Path) -> list[str]:
    """Return the names of the studies stored under `log_root` (none when there is no file)."""
    if not storage_path(log_root).exists():
        return []
    return sorted(s.study_name for s in optuna.get_all_study_summaries(storage(log_root)))


def point_key(point: Mapping[str, ParamValue]) -> str:
    """Return a point as canonical text (same point, same text)."""
    return ";".join(f"{name}={choice_key(point[name])}" for name in sorted(point))


def point_json(point: Mapping[str, ParamValue]) -> dict[str, Any]:
    """Return a point as JSON-ready data (list choices as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(point.items())}


def settings_of(study: optuna.Study) -> StudySettings:
    """Return the settings a study was created with."""
    raw = study.user_attrs.get(SETTINGS_ATTR)
    if raw is None:
        raise StudyError(f"study {study.study_name!r} was not made by seeker optimize")
    return StudySettings.model_validate_json(json.dumps(raw))


def open_study(log_root: Path, name: str, settings: StudySettings) -> optuna.Study:
    """Create the study `name`, or resume it when its stored settings are the same.

    Trials left running by an interrupted search are failed and their points queued again.
    """
    store = storage(log_root)
    if name in {s.study_name for s in optuna.get_all_study_summaries(store)}:
        study = optuna.load_study(study_name=name, storage=store)
        stored = settings_of(study)
        diff = settings.differences(stored)
        if diff:
            raise StudyError(
                f"study {name!r} exists with other settings ({'; '.join(diff)}): "
                "resume it with the same ones, or name a new study with --study"
            )
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            study.tell(trial.number, state=TrialState.FAIL)
            if trial.params:
                study.enqueue_trial(dict(trial.params))
        return study
    study = optuna.create_study(study_name=name, storage=store, direction="maximize")
    study.set_user_attr(SETTINGS_ATTR, json.loads(settings.identity()))
    return study


def load_study(log_root: Path, name: str) -> optuna.Study:
    """Return the stored study `name` (StudyError naming the known ones when absent)."""
    known = study_names(log_root)
    if name not in known:
        listed = ", ".join(known) if known else "none"
        raise StudyError(f"no study {name!r} under {log_root} (studies there: {listed})")
    return optuna.load_study(study_name=name, storage=storage(log_root))


def grid_values(space: SearchSpace) -> dict[str, list[Any]]:
    """Return each parameter's grid values as Optuna sees them (list choices as their text)."""
    out: dict[str, list[Any]] = {}
    for name, dist in space.optuna_distributions().items():
        param = space.params[name]
        if isinstance(dist, CategoricalDistribution):
            out[name] = list(dist.choices)
        else:
            assert isinstance(param, RangeParam)
            out[name] = list(param.values())
    return out


class AskTellGridSampler(GridSampler):
    """Optuna's grid sampler for an ask-and-tell loop: the loop, not the sampler, stops.

    ``GridSampler.after_trial`` calls ``Study.stop()`` once the grid is exhausted, which Optuna
    allows only inside ``Study.optimize``; `search` checks ``is_exhausted`` itself.
    """

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Do nothing: the search loop stops when the grid is exhausted."""


def make_sampler(settings: StudySettings, space: SearchSpace, told: int) -> BaseSampler:
    """Return the study's sampler; a resumed TPE search is reseeded by the trials already made."""
    if settings.sampler == "grid":
        try:
            space.grid_size()
        except SearchSpaceError as exc:
            raise StudyError("; ".join(exc.problems)) from None
        return AskTellGridSampler(grid_values(space), seed=settings.seed)
    return TPESampler(seed=settings.seed + told)


@dataclass(frozen=True)
class StudySetup:
    """What the search needs besides the study: the checked space, the config, the windows."""

    settings: StudySettings
    space: SearchSpace
    table: StrategyConfig
    base_data: Mapping[str, Any]
    config_dir: Path
    sessions: Mapping[str, tuple[date, ...]]
    """Graded sessions of every market source, by source key."""

    def jobs(self, table: StrategyConfig, sources: Sequence[Any]) -> list[TrialJob]:
        """Return one run per source of the strategy on `table`."""
        data = trial_config_data(
            self.base_data, self.settings.strategy, table.model_dump(mode="python")
        )
        return [
            TrialJob(self.settings.strategy, data, str(self.config_dir), source)
            for source in sources
        ]

    def table_for(self, point: Mapping[str, ParamValue]) -> StrategyConfig:
        """Return the strategy's table with `point` applied (SearchSpaceError when refused)."""
        return apply_point(self.table, point)

    def objective(self, runs: Sequence[RunResult]) -> float:
        """Return the annual Sharpe ratio of the runs' P&L over their search windows."""
        series = [
            window_pnl(run.trades, self.settings.folds.search_window(self.sessions[run.source]))
            for run in runs
        ]
        return annual_sharpe(np.concatenate(series)) if series else 0.0


def runs_of(trial: FrozenTrial) -> list[RunResult]:
    """Return the runs a completed trial stored."""
    return [RunResult.from_json(r) for r in trial.user_attrs.get(RUNS_ATTR, [])]


def completed(study: optuna.Study) -> list[FrozenTrial]:
    """Return the study's completed trials, by number."""
    return sorted(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number
    )


def best_value(study: optuna.Study) -> float | None:
    """Return the best objective so far (None before any completed trial)."""
    values = [t.value for t in completed(study) if t.value is not None]
    return max(values) if values else None


def search(
    study: optuna.Study,
    setup: StudySetup,
    n_trials: int,
    executor: Executor,
    runner: Runner,
    progress: Progress = no_progress,
) -> int:
    """Run trials until the study holds `n_trials` completed ones (or the grid is exhausted).

    Return how many trials this call completed.
    """
    settings, space = setup.settings, setup.space
    distributions = space.optuna_distributions()
    sampler = make_sampler(settings, space, len(study.trials))
    study.sampler = sampler
    target = n_trials
    if settings.sampler == "grid":
        target = min(n_trials, space.grid_size())
    known: dict[str, list[RunResult]] = {}
    for t in completed(study):
        known[point_key(space.from_optuna(t.params))] = runs_of(t)
    done_before = len(completed(study))
    asked_limit = target + max(20, target)
    asked = 0
    progress("search", len(completed(study)), target, best_value(study))
    while len(completed(study)) < target and asked < asked_limit:
        if isinstance(sampler, GridSampler) and sampler.is_exhausted(study):
            break
        size = min(settings.batch, target - len(completed(study)))
        batch = [study.ask(distributions) for _ in range(size)]
        asked += size
        plans: list[tuple[optuna.Trial, dict[str, ParamValue], list[int] | None]] = []
        jobs: list[TrialJob] = []
        slots: dict[str, int] = {}
        for trial in batch:
            point = space.from_optuna(trial.params)
            key = point_key(point)
            trial.set_user_attr(POINT_ATTR, point_json(point))
            if key in known:
                plans.append((trial, point, None))
                continue
            try:
                table = setup.table_for(point)
            except SearchSpaceError as exc:
                trial.set_user_attr(REFUSED_ATTR, "; ".join(exc.problems))
                study.tell(trial, state=TrialState.PRUNED)
                continue
            indices: list[int] = []
            for job in setup.jobs(table, settings.sources):
                slot = f"{key}|{job.source.key}"
                if slot not in slots:
                    slots[slot] = len(jobs)
                    jobs.append(job)
                indices.append(slots[slot])
            plans.append((trial, point, indices))
        finished = _count_trials(plans, len(completed(study)), target, progress, study)
        results = executor.run(runner, jobs, finished)
        for trial, point, indices in plans:
            key = point_key(point)
            runs = known[key] if indices is None else [results[i] for i in indices]
            errors = [r.error for r in runs if r.error]
            if errors:
                trial.set_user_attr(ERROR_ATTR, errors[0])
                study.tell(trial, state=TrialState.FAIL)
                continue
            known[key] = runs
            trial.set_user_attr(RUNS_ATTR, [r.to_json() for r in runs])
            value = setup.objective(runs)
            study.tell(trial, value if math.isfinite(value) else 0.0)
        progress("search", len(completed(study)), target, best_value(study))
    return len(completed(study)) - done_before


def _count_trials(
    plans: Sequence[tuple[optuna.Trial, dict[str, ParamValue], list[int] | None]],
    before: int,
    target: int,
    progress: Progress,
    study: optuna.Study,
) -> Callable[[int], None]:
    """Return an `on_done` that reports a trial as done once all its runs are."""
    waiting = [set(ix) for _t, _p, ix in plans if ix]
    done_runs: set[int] = set()
    best = best_value(study)
    counted = [before + sum(1 for _t, _p, ix in plans if ix is None)]

    def on_done(index: int) -> None:
        done_runs.add(index)
        finished = [w for w in waiting if w <= done_runs]
        for w in finished:
            waiting.remove(w)
            counted[0] += 1
        if finished:
            progress("search", min(counted[0], target), target, best)

    return on_done
