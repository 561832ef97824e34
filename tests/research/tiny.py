"""A tiny but real study for the tests: the broken-wing butterfly on 4 listings, 10 sessions.

Every trial is real runs of the engine on the simulated market (about a second each), so the
studies here stay at a handful of trials.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seeker.reports.trials import read_trades
from seeker.research.setup import StudyRequest
from seeker.research.study import Runner
from seeker.research.trial import run_job
from tests.support import SHIPPED, strategy_config_models

STRATEGY = "broken_wing_butterfly"
LISTINGS = ("SLV", "GDX", "INTC", "XLE")
"""Listings where the butterfly trades within a few sessions on seed 1."""

SPACE = """\
strategy = "broken_wing_butterfly"

[params.take_profit_pct]
low = 40
high = 60
step = 20

[params.move_atr]
low = 1.5
high = 2.5
step = 1.0
"""

RUNNER: Runner = functools.partial(run_job, reader=read_trades)
"""Runs one job in this process (or a worker) and reads its journals through the reports."""


def write_space(folder: Path, text: str = SPACE, name: str = "space.toml") -> Path:
    """Write a space file into `folder` and return its path."""
    path = folder / name
    path.write_text(text)
    return path


def request(space: Path, config: Path = SHIPPED, **changes: Any) -> StudyRequest:
    """Return a tiny study's request: grid, seed 1, 10 sessions, 2 folds, 4 listings."""
    fields: dict[str, Any] = dict(
        strategy=STRATEGY,
        space_file=space,
        config_file=config,
        sampler="grid",
        seed=0,
        batch=2,
        seeds=[1],
        oos_seeds=[],
        sessions=10,
        underlyings=list(LISTINGS),
        n_folds=2,
        registry_models=strategy_config_models(),
    )
    fields.update(changes)
    return StudyRequest(**fields)


def trial_table(trials: Sequence[Any]) -> list[tuple[int, dict[str, Any], float | None, str]]:
    """Return (number, params, value, runs as JSON text) per trial: what must not differ."""
    import json

    return [
        (t.number, dict(t.params), t.value, json.dumps(t.user_attrs.get("runs"), sort_keys=True))
        for t in trials
    ]
