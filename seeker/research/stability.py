"""Parameter stability: does the objective survive small moves away from the chosen point?

An overfit optimum is a spike: nudge one parameter and the result collapses. `perturb` lists the
neighbours of a chosen point, one parameter at a time; `assess_stability` scores the objective
values the caller measured there.

Neighbours: each numeric parameter moves by −20 %, −10 %, +10 % and +20 % of its value (of the
range width when the value is 0), clipped to [low, high] and moved to the nearest grid value (ties
to even); a choice moves to the previous and the next listed choice. A move that lands back on the
chosen value, or on a value already listed for that parameter, is dropped; a parameter left with
no neighbour at all is reported as untested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .space import ChoiceParam, ParamValue, SearchSpace, choice_key

SHIFTS = (0.10, 0.20)
"""Relative moves of numeric parameters (fractions of the value): ±10 % and ±20 %."""


@dataclass(frozen=True)
class Perturbation:
    """The chosen point with one parameter moved: which, how (``"+10%"``, ``"next choice"``)."""

    param: str
    shift: str
    value: ParamValue
    point: dict[str, ParamValue]


@dataclass(frozen=True)
class Neighbourhood:
    """The neighbours of a chosen point, and the parameters that have none."""

    chosen: dict[str, ParamValue]
    points: tuple[Perturbation, ...]
    untested: tuple[str, ...]


@dataclass(frozen=True)
class ScoredPerturbation:
    """A neighbour with its objective, relative to the chosen point's, and whether it held."""

    perturbation: Perturbation
    objective: float
    relative_change: float
    kept: bool


@dataclass(frozen=True)
class StabilityReport:
    """How the objective held around the chosen point.

    `kept_share` is the share of neighbours whose objective stayed ≥ `keep_ratio` of the chosen
    one (for a negative objective: lost at most 1 − keep_ratio of its size); `worst_relative_drop`
    the largest fall as a fraction of |chosen objective| (0 when no neighbour is worse).
    """

    chosen_objective: float
    keep_ratio: float
    n_points: int
    kept_share: float
    worst_relative_drop: float
    worst: Perturbation | None
    points: tuple[ScoredPerturbation, ...]
    untested: tuple[str, ...]


def _label(fraction: float) -> str:
    return f"{fraction * 100:+g}%"


def perturb(
    space: SearchSpace, chosen: Mapping[str, object], shifts: Sequence[float] = SHIFTS
) -> Neighbourhood:
    """Return the neighbours of `chosen` (a point of `space`), parameters in name order."""
    point = space.check_point(chosen)
    if not shifts or any(not (math.isfinite(s) and 0.0 < s < 1.0) for s in shifts):
        raise ValueError(f"shifts must be fractions between 0 and 1 (got {list(shifts)})")
    fractions = sorted({-s for s in shifts} | set(shifts))
    out: list[Perturbation] = []
    untested: list[str] = []
    for name in space.names:
        param, value = space.params[name], point[name]
        seen = {choice_key(value)}
        moves: list[tuple[str, ParamValue]] = []
        if isinstance(param, ChoiceParam):
            keys = [choice_key(c) for c in param.choices]
            i = keys.index(choice_key(value))
            if i > 0:
                moves.append(("previous choice", param.choices[i - 1]))
            if i + 1 < len(param.choices):
                moves.append(("next choice", param.choices[i + 1]))
        else:
            assert isinstance(value, int | float) and not isinstance(value, bool)
            base = abs(value) if value != 0 else float(param.high) - float(param.low)
            moves.extend((_label(f), param.snap(value + f * base)) for f in fractions)
        kept = 0
        for label, moved in moves:
            if choice_key(moved) in seen:
                continue
            seen.add(choice_key(moved))
            out.append(Perturbation(name, label, moved, {**point, name: moved}))
            kept += 1
        if kept == 0:
            untested.append(name)
    return Neighbourhood(chosen=point, points=tuple(out), untested=tuple(untested))


def assess_stability(
    chosen_objective: float,
    evaluated: Sequence[tuple[Perturbation, float]],
    keep_ratio: float,
    untested: Sequence[str] = (),
) -> StabilityReport:
    """Score the objectives measured at the neighbours of the chosen point.

    `keep_ratio` (e.g. 0.8) is the share of the chosen objective a neighbour must keep. Raise
    ValueError when nothing was evaluated, the chosen objective is 0 (nothing to keep a share
    of) or a figure is not finite.
    """
    if not math.isfinite(chosen_objective) or chosen_objective == 0.0:
        raise ValueError(
            f"stability needs a finite, non-zero objective at the chosen point "
            f"(got {chosen_objective!r})"
        )
    if not (math.isfinite(keep_ratio) and 0.0 < keep_ratio <= 1.0):
        raise ValueError(f"keep_ratio must be in (0, 1] (got {keep_ratio!r})")
    if not evaluated:
        raise ValueError("stability needs the objective at one neighbour at least")
    scale = abs(chosen_objective)
    floor = chosen_objective - (1.0 - keep_ratio) * scale
    scored: list[ScoredPerturbation] = []
    for perturbation, objective in evaluated:
        if not math.isfinite(objective):
            raise ValueError(
                f"objective at {perturbation.param} {perturbation.shift} is not finite "
                f"({objective!r})"
            )
        change = (objective - chosen_objective) / scale
        scored.append(ScoredPerturbation(perturbation, objective, change, objective >= floor))
    worst = min(scored, key=lambda s: s.relative_change)
    return StabilityReport(
        chosen_objective=chosen_objective,
        keep_ratio=keep_ratio,
        n_points=len(scored),
        kept_share=sum(s.kept for s in scored) / len(scored),
        worst_relative_drop=max(0.0, -worst.relative_change),
        worst=worst.perturbation if worst.relative_change < 0.0 else None,
        points=tuple(scored),
        untested=tuple(untested),
    )
