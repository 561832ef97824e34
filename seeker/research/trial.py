"""One run of a trial: the real engine, the trial's parameters, one market source.

A `TrialJob` is plain data (picklable for worker processes and Dask workers): the strategy's
name, the raw config data with the trial's table already in it, the config's folder (relative
paths resolve against it) and the market source. `run_job` validates the config exactly as
``seeker run`` does, builds the source's services, runs the strategy with ``run_strategies`` in a
temporary journal folder, and reads the journals back with the `TradeReader` it is given
(``seeker.reports.trials.read_trades``, which goes through ``seeker.reports.summary``: this
layer sits below reports, so the reader is handed in from above).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from seeker.research.runs import RunResult, TradeRecord
from seeker.research.sources import ReplaySource, SimSource

TICK_SECONDS = 0.05
"""How often the run's main loop checks whether the strategy thread is done (wall seconds)."""


class TradeReader(Protocol):
    """Read a strategy's journal folder: its closed trades and how many positions are open."""

    def __call__(self, folder: Path, strategy: str) -> tuple[list[TradeRecord], int]: ...


class RunInterrupted(KeyboardInterrupt):
    """Raise when a run was stopped by SIGINT / SIGTERM: the study stops too."""


@dataclass(frozen=True)
class TrialJob:
    """One real run to make: which strategy, on which config data, on which market."""

    strategy: str
    config_data: Mapping[str, Any]
    config_dir: str
    source: SimSource | ReplaySource
    tags: Mapping[str, str] = field(default_factory=dict)


def trial_config_data(
    base: Mapping[str, Any], strategy: str, table: Mapping[str, Any]
) -> dict[str, Any]:
    """Return `base` config data with only `strategy` enabled, on `table`."""
    data = copy.deepcopy(dict(base))
    data["strategies"] = {"enabled": [strategy], strategy: copy.deepcopy(dict(table))}
    return data


def _last_error(folder: Path) -> str:
    """Return the last line of the last ``strategy_error`` traceback journaled in `folder`."""
    from seeker.core.journal import read_events

    errors = [x for x in read_events(folder, ["RISK"]) if x.get("rule") == "strategy_error"]
    if not errors:
        return "no traceback journaled"
    lines = str(errors[-1].get("detail", "")).strip().splitlines()
    return lines[-1] if lines else "no traceback journaled"


def run_job(job: TrialJob, reader: TradeReader) -> RunResult:
    """Make the run `job` describes and return its closed trades (journals are thrown away)."""
    from seeker.config.loading import validate_config
    from seeker.engine.registry import config_models
    from seeker.engine.runner import run_strategies
    from seeker.strategies import load

    registry = load()
    data = job.source.configure(job.config_data)
    config = validate_config(data, config_models(registry), Path(job.config_dir))
    with tempfile.TemporaryDirectory(prefix="seeker-trial-") as tmp:
        root = Path(tmp)
        services = job.source.build(config, root)
        try:
            result = run_strategies(
                services, [job.strategy], tick_seconds=TICK_SECONDS, strategies=registry
            )
        finally:
            services.broker.close()
            services.close_journals()
        if result.signalled is not None:
            from seeker.research.executors import in_pool_worker

            # the parent is terminating the pool: end quietly, even when the signal came as the
            # run was ending anyway (a worker that went back to wait for work would never exit)
            if in_pool_worker():
                raise SystemExit(0)
            raise RunInterrupted(f"run stopped by {result.signalled}")
        trades, still_open = reader(root / job.strategy, job.strategy)
        error = None
        failed = [name for name, state in result.states.items() if state == "error"]
        if failed:
            error = f"{', '.join(failed)} failed during the run: {_last_error(root / job.strategy)}"
    return RunResult(
        source=job.source.key,
        trades=tuple(trades),
        open_at_end=still_open,
        stopped_cleanly=result.stopped_cleanly,
        error=error,
    )
