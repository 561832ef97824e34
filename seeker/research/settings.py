"""A study's settings: everything that decides its trials, stored with it so a resume can check.

Two runs of ``seeker optimize`` continue the same study only when these settings are the same;
the number of trials asked for is not among them (a resumed study may be asked for more).
The walk-forward windows are cut per market source from its own graded sessions:

* the *search window* — the sessions before the first fold's embargo: the Optuna objective (the
  annual Sharpe ratio of the P&L booked per session) is measured there only, so the sampler never
  sees an out-of-sample session;
* fold k — in-sample sessions (where the trial it keeps is selected) and out-of-sample sessions
  (where that trial is judged), from `seeker.research.folds.walk_forward`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from seeker.core.config_base import StrictModel
from seeker.research.folds import Fold, FoldPlan, walk_forward
from seeker.research.sources import Source
from seeker.research.space import ChoiceParam, SearchSpace, parse_space


class FoldSettings(StrictModel):
    """The walk-forward plan, in sessions of each market source."""

    scheme: Literal["anchored", "rolling"]
    n_folds: int = Field(ge=1, le=50)
    is_length: int = Field(ge=1)
    oos_length: int = Field(ge=1)
    embargo: int = Field(ge=0)

    def plan(self) -> FoldPlan:
        """Return the plan for `seeker.research.folds.walk_forward`."""
        return FoldPlan(
            scheme=self.scheme,
            n_folds=self.n_folds,
            is_length=self.is_length,
            oos_length=self.oos_length,
            embargo=self.embargo,
        )

    def folds(self, sessions: tuple[date, ...]) -> tuple[Fold[date], ...]:
        """Return the folds over one source's graded sessions (ValueError when too short)."""
        return walk_forward(sessions, self.plan(), seeds=[0])

    def search_window(self, sessions: tuple[date, ...]) -> tuple[date, ...]:
        """Return the sessions the search's objective sees: all before the first fold's embargo."""
        cut = len(sessions) - self.n_folds * self.oos_length - self.embargo
        return sessions[: max(cut, 0)]


class StudySettings(StrictModel):
    """What decides a study's trials and its grade (the trial count excepted)."""

    strategy: str
    space: str
    """The checked search space as canonical JSON (`space_text`)."""
    space_file: str
    space_sha256: str
    config_file: str
    config_sha256: str
    underlyings: list[str] | None
    sampler: Literal["tpe", "grid"]
    seed: int = Field(ge=0)
    batch: int = Field(ge=1, le=1000)
    sources: list[Source] = Field(min_length=1)
    oos_sources: list[Source]
    folds: FoldSettings
    stability: bool
    keep_ratio: float = Field(gt=0.0, le=1.0, allow_inf_nan=False)
    by_regime: bool
    min_regime_trades: int = Field(ge=1)
    bootstrap_resamples: int = Field(ge=100, le=1_000_000)

    @model_validator(mode="after")
    def _distinct_sources(self) -> StudySettings:
        keys = [s.key for s in self.sources]
        if len(set(keys)) != len(keys):
            raise ValueError("a market source is listed twice in the in-sample sources")
        oos = [s.key for s in self.oos_sources]
        if len(set(oos)) != len(oos):
            raise ValueError("a market source is listed twice in the out-of-sample sources")
        if set(keys) & set(oos):
            raise ValueError(
                f"out-of-sample sources must differ from the in-sample ones (both: "
                f"{sorted(set(keys) & set(oos))})"
            )
        return self

    def search_space(self) -> SearchSpace:
        """Return the study's search space."""
        return parse_space(json.loads(self.space))

    def test_sources(self) -> list[Source]:
        """Return the sources out-of-sample windows are judged on (the in-sample ones if none)."""
        return list(self.oos_sources) or list(self.sources)

    def identity(self) -> str:
        """Return the settings as canonical JSON (what a resumed study must match)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """Return a short hash of the settings (default study names use it)."""
        return hashlib.sha256(self.identity().encode()).hexdigest()[:8]

    def differences(self, other: StudySettings) -> list[str]:
        """Return the top-level settings that differ from `other`'s, as ``name: a → b``."""
        mine, theirs = self.model_dump(mode="json"), other.model_dump(mode="json")
        out = []
        for name in sorted(mine):
            if mine[name] != theirs.get(name):
                a = json.dumps(theirs.get(name), sort_keys=True)
                b = json.dumps(mine[name], sort_keys=True)
                out.append(f"{name}: {_short(a)} → {_short(b)}")
        return out


def space_text(space: SearchSpace) -> str:
    """Return a search space as canonical JSON (parameters by dotted name, lists for tuples)."""
    params: dict[str, dict[str, object]] = {}
    for name in space.names:
        p = space.params[name]
        if isinstance(p, ChoiceParam):
            params[name] = {"choices": [list(c) if isinstance(c, tuple) else c for c in p.choices]}
        else:
            bounds = {"low": p.low, "high": p.high, "step": p.step}
            params[name] = {k: v for k, v in bounds.items() if v is not None}
    data = {"strategy": space.strategy, "params": params}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
