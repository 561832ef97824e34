"""Stability of the candidate: its neighbours at ±10 % / ±20 %, each a real run, and their score.

`neighbours_of` lists the perturbed points (``seeker.research.stability.perturb``) with the
strategy table each one makes, or the config model's refusal; `stability_of` scores the objective
measured at each (annual Sharpe over the candidate's selection sessions, the in-sample sources)
against the candidate's with ``assess_stability``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from seeker.config.strategy import StrategyConfig
from seeker.research.evidence import NeighbourResult, StabilityResult
from seeker.research.pool import DaysOf, PoolTrial, RunCache, series
from seeker.research.runs import annual_sharpe
from seeker.research.space import ParamValue, SearchSpaceError
from seeker.research.stability import Perturbation, assess_stability, perturb
from seeker.research.study import StudySetup

Neighbour = tuple[Perturbation, StrategyConfig | None, str]
"""A perturbed point, its strategy table (None when the config model refuses it), and why."""


def neighbours_of(
    setup: StudySetup, chosen: Mapping[str, ParamValue]
) -> tuple[list[tuple[Perturbation, StrategyConfig | None, str]], list[str]]:
    """Return the perturbed points around `chosen`, each with its table (None when refused)."""
    hood = perturb(setup.space, chosen)
    out: list[tuple[Perturbation, StrategyConfig | None, str]] = []
    for p in hood.points:
        try:
            out.append((p, setup.table_for(p.point), ""))
        except SearchSpaceError as exc:
            out.append((p, None, "refused by the config model: " + "; ".join(exc.problems)))
    return out, list(hood.untested)


def stability_of(
    setup: StudySetup,
    cache: RunCache,
    candidate: PoolTrial,
    cand_series: np.ndarray,
    neighbours: Sequence[tuple[Perturbation, StrategyConfig | None, str]],
    untested: Sequence[str],
    selection: DaysOf,
) -> StabilityResult:
    """Return how the objective held at the neighbours (runs from `cache`, selection sessions)."""
    s = setup.settings
    chosen = annual_sharpe(cand_series)
    if not s.stability:
        return StabilityResult(
            measured=False,
            chosen_objective=chosen,
            keep_ratio=s.keep_ratio,
            kept_share=None,
            worst_relative_drop=None,
            neighbours=[],
            untested=list(untested),
            note="not measured (--no-stability)",
        )
    rows: list[tuple[Perturbation, float | None, str]] = []
    for p, table, note in neighbours:
        if table is None:
            rows.append((p, None, note))
            continue
        runs = cache.runs(p.point, s.sources)
        rows.append((p, annual_sharpe(series(runs, selection)), ""))
    evaluated = [(p, v) for p, v, _n in rows if v is not None]
    if not evaluated or chosen == 0.0 or not math.isfinite(chosen):
        why = (
            "the candidate's objective is 0 (no trade, or flat): nothing to keep a share of"
            if evaluated
            else "no neighbour could be run"
        )
        return StabilityResult(
            measured=False,
            chosen_objective=chosen,
            keep_ratio=s.keep_ratio,
            kept_share=None,
            worst_relative_drop=None,
            neighbours=[
                NeighbourResult(
                    param=p.param,
                    shift=p.shift,
                    value=_jsonable(p.value),
                    objective=v,
                    kept=None,
                    note=n,
                )
                for p, v, n in rows
            ],
            untested=list(untested),
            note=f"not measured: {why}",
        )
    report = assess_stability(chosen, evaluated, s.keep_ratio, untested)
    kept = {id(sp.perturbation): sp.kept for sp in report.points}
    return StabilityResult(
        measured=True,
        chosen_objective=chosen,
        keep_ratio=s.keep_ratio,
        kept_share=report.kept_share,
        worst_relative_drop=report.worst_relative_drop,
        neighbours=[
            NeighbourResult(
                param=p.param,
                shift=p.shift,
                value=_jsonable(p.value),
                objective=v,
                kept=kept.get(id(p)),
                note=n,
            )
            for p, v, n in rows
        ],
        untested=list(untested),
        note=f"{sum(kept.values())}/{len(kept)} neighbours keep ≥ {s.keep_ratio:.0%} of the "
        f"objective {chosen:.3g}",
    )


def _jsonable(value: ParamValue) -> object:
    return list(value) if isinstance(value, tuple) else value


def _jsonable(value: ParamValue) -> object:
    return list(value) if isinstance(value, tuple) else value
