"""Grade a finished search out of sample: walk-forward, bootstrap, DSR, stability, one letter.

1. **Walk-forward.** For each fold k, the completed trial with the best annual Sharpe over fold
   k's in-sample sessions (on the in-sample sources) is selected (ties: the earliest trial); it is
   judged on fold k's out-of-sample sessions of the out-of-sample sources (other seeds, when the
   study names them; otherwise the same sources, later sessions). The candidate is the last fold's
   selection: the trial the most recent in-sample window picked.
2. **Deflated Sharpe Ratio** of the candidate's selection: its per-session Sharpe over the last
   fold's in-sample sessions, against the number of completed trials and the variance of their
   per-session Sharpe ratios over the same sessions (a flat trial counts as 0).
3. **Block bootstrap** (stationary, mean block n^⅓ trades) of the out-of-sample trades' P&L.
4. **Stability**: the candidate's point moved ±10 % / ±20 % one parameter at a time, each
   neighbour a real run per in-sample source, its objective over the candidate's selection
   sessions; a neighbour "keeps" when it holds `keep_ratio` of the candidate's objective.
5. **Grade** from `seeker.research.grade` with every criterion's score.

Runs grading needs and the study lacks are made through the executor, in one batch, and stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import optuna
from optuna.trial import TrialState

from seeker.config.strategy import StrategyConfig
from seeker.research.evidence import (
    CurvePoint,
    Evaluation,
    FoldResult,
)
from seeker.research.executors import Executor
from seeker.research.grade import GradeInputs, grade
from seeker.research.measures import bootstrap_summary, dsr_of
from seeker.research.neighbours import neighbours_of, stability_of
from seeker.research.pool import (
    DaysOf,
    PoolTrial,
    RunCache,
    Source,
    Windows,
    curve,
    pool_of,
    series,
    trades,
)
from seeker.research.regimes import plan_regimes, regime_cells
from seeker.research.runs import annual_sharpe, session_sharpe
from seeker.research.space import ParamValue
from seeker.research.study import (
    ERROR_ATTR,
    Progress,
    Runner,
    StudyError,
    StudySetup,
    completed,
    no_progress,
    point_json,
    point_key,
)
from seeker.research.trial import TrialJob

EVALUATION_ATTR = "evaluation"


def _select(pool: Sequence[PoolTrial], sources: Sequence[Source], days: DaysOf) -> PoolTrial:
    """Return the trial with the best annual Sharpe over `days` (earliest on ties)."""

    def score(t: PoolTrial) -> tuple[float, int]:
        runs = [t.runs[s.key] for s in sources]
        return annual_sharpe(series(runs, days)), -t.number

    return max(pool, key=score)


def _needed(
    cache: RunCache,
    points: Sequence[tuple[dict[str, ParamValue], StrategyConfig]],
    sources: Sequence[Source],
) -> list[tuple[dict[str, ParamValue], StrategyConfig, Source]]:
    out, seen = [], set()
    for point, table in points:
        for source in sources:
            slot = (point_key(point), source.key)
            if slot not in seen and cache.get(point, source.key) is None:
                seen.add(slot)
                out.append((point, table, source))
    return out


def _make_runs(
    setup: StudySetup,
    cache: RunCache,
    needed: Sequence[tuple[dict[str, ParamValue], StrategyConfig, Source]],
    executor: Executor,
    runner: Runner,
    progress: Progress,
) -> None:
    jobs: list[TrialJob] = [setup.jobs(table, [source])[0] for _p, table, source in needed]
    done = [0]
    progress("evaluate", 0, len(jobs), None)

    def on_done(_index: int) -> None:
        done[0] += 1
        progress("evaluate", done[0], len(jobs), None)

    results = executor.run(runner, jobs, on_done)
    for (point, _table, _source), run in zip(needed, results, strict=True):
        if run.error:
            raise StudyError(f"a grading run of {point_key(point)} failed: {run.error}")
        cache.put(point, run)


def evaluate(
    study: optuna.Study,
    setup: StudySetup,
    executor: Executor,
    runner: Runner,
    progress: Progress = no_progress,
) -> Evaluation:
    """Grade the study's search (making the runs grading needs) and store the evaluation."""
    s = setup.settings
    pool = pool_of(study, setup.space)
    if not pool:
        raise StudyError(f"study {study.study_name!r} has no completed trial to grade")
    cache = RunCache(study, pool)
    windows = Windows(setup)
    test_sources = s.test_sources()
    k_last = s.folds.n_folds - 1
    chosen = [_select(pool, s.sources, windows.is_days(k)) for k in range(s.folds.n_folds)]
    candidate = chosen[-1]
    selection = windows.is_days(k_last)
    plans = plan_regimes(pool, s.sources, selection, s.min_regime_trades) if s.by_regime else []
    neighbours, untested = neighbours_of(setup, candidate.point) if s.stability else ([], [])

    tested = {t.key: t for t in [*chosen, *(p.trial for p in plans if p.trial is not None)]}
    wanted = [(t.point, setup.table_for(t.point)) for t in tested.values()]
    needed = _needed(cache, wanted, test_sources)
    valid = [(p.point, table) for p, table, _n in neighbours if table is not None]
    needed += _needed(cache, valid, s.sources)
    _make_runs(setup, cache, needed, executor, runner, progress)

    folds, is_parts, oos_parts, oos_trades, open_end = [], [], [], [], 0
    for k, trial in enumerate(chosen):
        is_runs = [trial.runs[src.key] for src in s.sources]
        oos_runs = cache.runs(trial.point, test_sources)
        is_days, oos_days = windows.is_days(k), windows.oos_days(k)
        is_series, oos_series = series(is_runs, is_days), series(oos_runs, oos_days)
        fold_trades = trades(oos_runs, oos_days)
        is_parts.append(is_series)
        oos_parts.append(oos_series)
        oos_trades.extend(fold_trades)
        open_end += sum(r.open_at_end for r in oos_runs) if k == k_last else 0
        first_is, first_oos = is_days(s.sources[0].key), oos_days(test_sources[0].key)
        folds.append(
            FoldResult(
                index=k,
                is_first=first_is[0],
                is_last=first_is[-1],
                oos_first=first_oos[0],
                oos_last=first_oos[-1],
                trial=trial.number,
                point=point_json(trial.point),
                is_sharpe=annual_sharpe(is_series),
                is_pnl=round(float(is_series.sum()), 6),
                is_trades=len(trades(is_runs, is_days)),
                oos_sharpe=annual_sharpe(oos_series),
                oos_pnl=round(float(oos_series.sum()), 6),
                oos_trades=len(fold_trades),
                is_curve=[CurvePoint(day=d, pnl=v) for d, v in curve(is_runs, is_days)],
                oos_curve=[CurvePoint(day=d, pnl=v) for d, v in curve(oos_runs, oos_days)],
            )
        )
    is_all, oos_all = np.concatenate(is_parts), np.concatenate(oos_parts)

    cand_runs = [candidate.runs[src.key] for src in s.sources]
    cand_series = series(cand_runs, selection)
    sharpes = [session_sharpe(series([t.runs[x.key] for x in s.sources], selection)) for t in pool]
    dsr = dsr_of(cand_series, sharpes)
    pnls = [t.net_pnl for t in oos_trades]
    boot = bootstrap_summary(pnls, s.bootstrap_resamples, s.seed)
    stability = stability_of(setup, cache, candidate, cand_series, neighbours, untested, selection)
    card = grade(
        GradeInputs(
            oos_sharpe=annual_sharpe(oos_all),
            is_sharpe=annual_sharpe(is_all),
            fold_oos_results=tuple(f.oos_pnl for f in folds),
            dsr=dsr.dsr,
            stability_kept_share=stability.kept_share,
            oos_trades=len(oos_trades),
        )
    )
    cells = regime_cells(plans, cache, test_sources, windows, s.folds.n_folds)
    best = max(completed(study), key=lambda t: (t.value or 0.0, -t.number))
    notes = []
    if not any(run.trades or run.open_at_end for t in pool for run in t.runs.values()):
        notes.append(
            f"none of the {len(pool)} trials opened a position: the space may not fit this "
            "market (wing widths, deltas or the DTE window that find no setup here) — read the "
            "DECISION lines of one run (`seeker journal --blocked-by generator`)"
        )
    if open_end:
        notes.append(
            f"{open_end} position(s) were still open when the last fold's out-of-sample runs "
            "ended: their P&L is not counted (a longer --tail lets them close)"
        )
    all_trials = study.get_trials(deepcopy=False)
    states = [t.state for t in all_trials]
    evaluation = Evaluation(
        study=study.study_name,
        strategy=s.strategy,
        trials_completed=len(pool),
        trials_pruned=states.count(TrialState.PRUNED),
        trials_failed=sum(
            t.state == TrialState.FAIL and ERROR_ATTR in t.user_attrs for t in all_trials
        ),
        trials_interrupted=sum(
            t.state == TrialState.FAIL and ERROR_ATTR not in t.user_attrs for t in all_trials
        ),
        candidate_trial=candidate.number,
        candidate_point=point_json(candidate.point),
        search_best_trial=best.number,
        search_best_value=float(best.value or 0.0),
        folds=folds,
        is_sharpe=annual_sharpe(is_all),
        oos_sharpe=annual_sharpe(oos_all),
        oos_pnl=round(float(sum(pnls)), 6),
        oos_trades=len(oos_trades),
        oos_open_at_end=open_end,
        dsr=dsr,
        bootstrap=boot,
        bootstrap_note="" if boot else f"{len(pnls)} out-of-sample trade(s): nothing to resample",
        stability=stability,
        card=card,
        regimes=cells,
        notes=notes,
    )
    study.set_user_attr(EVALUATION_ATTR, evaluation.model_dump(mode="json"))
    return evaluation


def stored_evaluation(study: optuna.Study) -> Evaluation | None:
    """Return the evaluation stored with a study (None before it was graded)."""
    raw = study.user_attrs.get(EVALUATION_ATTR)
    return None if raw is None else Evaluation.model_validate(raw)
