"""From what the user asked (files, seeds, windows) to a checked `StudySetup`, before any run.

Everything that can be wrong is found here and named: a config problem (ConfigError), a space
that names an unknown field or a hard constraint (SearchSpaceError), windows that do not fit the
sessions (StudyError). The command line turns each into exit code 2.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from seeker.config.loading import ConfigError, read_toml, validate_config
from seeker.config.strategy import StrategyConfig
from seeker.research.candidate import sha256_of
from seeker.research.searchable import check_space
from seeker.research.settings import FoldSettings, StudySettings, space_text
from seeker.research.sources import ReplaySource, SimSource
from seeker.research.space import SearchSpaceError, read_space
from seeker.research.study import StudyError, StudySetup

Sampler = Literal["tpe", "grid"]
Scheme = Literal["anchored", "rolling"]


@dataclass(frozen=True)
class StudyRequest:
    """What ``seeker optimize`` was asked: files, market sources, windows, grading options."""

    strategy: str
    space_file: Path
    config_file: Path
    sampler: Sampler = "tpe"
    seed: int = 0
    batch: int = 4
    seeds: Sequence[int] | None = None
    """In-sample sim seeds (default: the config's ``sim.seed``)."""
    oos_seeds: Sequence[int] = ()
    """Out-of-sample sim seeds (default: none, the in-sample ones' later sessions)."""
    sessions: int = 60
    tail: int = 0
    data: Sequence[Path] = ()
    """Replay chain stores (one market source each) instead of the simulated market."""
    first: date | None = None
    last: date | None = None
    underlyings: Sequence[str] | None = None
    n_folds: int = 3
    scheme: Scheme = "anchored"
    oos_sessions: int | None = None
    embargo: int = 0
    stability: bool = True
    keep_ratio: float = 0.8
    by_regime: bool = False
    min_regime_trades: int = 10
    bootstrap_resamples: int = 5000
    registry_models: Mapping[str, type[StrategyConfig]] = field(default_factory=dict)


def _sources(req: StudyRequest, sim_seed: int | None) -> tuple[list[Any], list[Any]]:
    if req.data:
        if req.oos_seeds:
            raise StudyError("--oos-seeds apply to the simulated market, not to --data replays")
        first, last = req.first or date.min, req.last or date.max
        replays = [
            ReplaySource(data=str(p.resolve()), first=first, last=last, tail=req.tail)
            for p in req.data
        ]
        return replays, []
    if sim_seed is None:
        raise StudyError("the simulated market needs a [sim] table in the config (or use --data)")
    seeds = list(req.seeds) if req.seeds else [sim_seed]
    is_src = [SimSource(seed=s, sessions=req.sessions, tail=req.tail) for s in seeds]
    oos_src = [SimSource(seed=s, sessions=req.sessions, tail=req.tail) for s in req.oos_seeds]
    return is_src, oos_src


def _folds(req: StudyRequest, shortest: int) -> FoldSettings:
    oos = req.oos_sessions or max(1, shortest // (req.n_folds + 2))
    is_length = shortest - req.n_folds * oos - req.embargo
    if is_length < 1:
        raise StudyError(
            f"{req.n_folds} folds of {oos} out-of-sample sessions and an embargo of {req.embargo} "
            f"leave no in-sample session in {shortest} sessions: use more --sessions, fewer "
            "--folds or shorter --oos-sessions"
        )
    return FoldSettings(
        scheme=req.scheme,
        n_folds=req.n_folds,
        is_length=is_length,
        oos_length=oos,
        embargo=req.embargo,
    )


def prepare(req: StudyRequest) -> StudySetup:
    """Return the checked setup of a study (ConfigError, SearchSpaceError or StudyError)."""
    models = req.registry_models
    if req.strategy not in models:
        known = ", ".join(sorted(models))
        raise StudyError(f"unknown strategy {req.strategy!r} (known: {known})")
    data = read_toml(req.config_file.expanduser())
    config_dir = req.config_file.expanduser().resolve().parent
    tables = data.get("strategies")
    if not isinstance(tables, dict) or not isinstance(tables.get(req.strategy), dict):
        raise ConfigError([f"strategies.{req.strategy}: required key is missing"])
    base = copy.deepcopy(data)
    if req.underlyings:
        base["strategies"][req.strategy]["underlyings"] = list(req.underlyings)
    config = validate_config(base, models, config_dir)
    table = config.strategies.table(req.strategy)
    assert table is not None
    space = read_space(req.space_file)
    if space.strategy != req.strategy:
        raise SearchSpaceError(
            [f"strategy: the space is for {space.strategy!r}, not {req.strategy!r}"]
        )
    space = check_space(space, models[req.strategy])
    sim_seed = config.sim.seed if config.sim is not None else None
    sources, oos_sources = _sources(req, sim_seed)
    sessions: dict[str, tuple[date, ...]] = {}
    shared: dict[tuple[int, int], tuple[date, ...]] = {}
    try:
        for src in [*sources, *oos_sources]:
            if isinstance(src, SimSource):  # every seed trades the same sessions
                shape = (src.sessions, src.tail)
                if shape not in shared:
                    shared[shape] = src.sessions_of(config)[: src.sessions]
                sessions[src.key] = shared[shape]
            else:
                sessions[src.key] = src.graded_sessions(config)
    except ValueError as exc:
        raise StudyError(str(exc)) from None
    folds = _folds(req, min(len(days) for days in sessions.values()))
    for key, days in sessions.items():
        try:
            folds.folds(days)
        except ValueError as exc:
            raise StudyError(f"{key}: {exc}") from None
    settings = StudySettings(
        strategy=req.strategy,
        space=space_text(space),
        space_file=str(req.space_file),
        space_sha256=sha256_of(req.space_file),
        config_file=str(req.config_file),
        config_sha256=sha256_of(req.config_file),
        underlyings=list(req.underlyings) if req.underlyings else None,
        sampler=req.sampler,
        seed=req.seed,
        batch=req.batch,
        sources=sources,
        oos_sources=oos_sources,
        folds=folds,
        stability=req.stability,
        keep_ratio=req.keep_ratio,
        by_regime=req.by_regime,
        min_regime_trades=req.min_regime_trades,
        bootstrap_resamples=req.bootstrap_resamples,
    )
    return StudySetup(
        settings=settings,
        space=space,
        table=table,
        base_data=base,
        config_dir=config_dir,
        sessions=sessions,
    )
