"""StrategyManager: one thread per strategy; a strategy that raises goes to ERROR alone."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import validate_config
from seeker.core.journal import read_events
from seeker.engine.lifecycle import StrategyState
from seeker.engine.manager import StrategyManager
from seeker.engine.registry import UnknownStrategy, register
from seeker.engine.runner import run_strategies
from seeker.engine.wiring import build_sim_services
from seeker.strategies.iron_condor import IronCondor
from tests.support import ROOT, shipped, small, strategy_config_models


@register
class Exploding(IronCondor):
    """An iron condor that raises on its third poll (a bug in a strategy package)."""

    name = "exploding_test"
    description = "test strategy that raises"
    id_prefix = "xx"
    regime_rule = "iron_condor"

    def __init__(self, services: Any, config: Any) -> None:
        super().__init__(services, config)
        self.polls = 0

    def poll_once(self) -> None:
        self.polls += 1
        if self.polls == 3:
            raise RuntimeError("boom in poll_once")
        super().poll_once()


def _services(tmp_path: Path, days: int, names: list[str]) -> Any:
    data = small(shipped())
    data["strategies"]["enabled"] = names
    data["strategies"]["exploding_test"] = dict(data["strategies"]["iron_condor"])
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    return build_sim_services(cfg, tmp_path / "logs", days=days, emit=lambda _m: None)


def test_a_raising_strategy_goes_to_error_and_the_others_go_on(tmp_path: Path) -> None:
    services = _services(tmp_path, 4, ["iron_condor", "exploding_test"])
    result = run_strategies(services, ["iron_condor", "exploding_test"], tick_seconds=0.05)
    services.broker.close()
    services.close_journals()
    assert result.states == {"exploding_test": "error", "iron_condor": "stopped"}
    assert result.stopped_cleanly
    errors = [
        r
        for r in read_events(tmp_path / "logs" / "exploding_test", ["RISK"])
        if r["rule"] == "strategy_error"
    ]
    assert len(errors) == 1
    assert "Traceback" in errors[0]["detail"] and "boom in poll_once" in errors[0]["detail"]
    failed_at = errors[0]["ts"]
    later = [
        d
        for d in read_events(tmp_path / "logs" / "iron_condor", ["DECISION"])
        if d["ts"] > failed_at
    ]
    assert later, "the iron condor stopped deciding when the other strategy failed"


def test_the_run_returns_when_the_strategies_end_not_at_its_next_tick(tmp_path: Path) -> None:
    """The last strategy thread to end wakes the run: with a 10-minute tick, a run that only
    looked at its threads every tick would still be waiting when the join below gives up."""
    services = _services(tmp_path, 1, ["iron_condor"])
    results: list[Any] = []
    runner = threading.Thread(
        target=lambda: results.append(
            run_strategies(services, ["iron_condor"], tick_seconds=600.0)
        ),
        daemon=True,
    )
    runner.start()
    runner.join(30.0)
    ended = not runner.is_alive()
    if not ended:  # let the stuck run go before failing
        services.clock.stop()
    services.broker.close()
    services.close_journals()
    assert ended, "run_strategies waited for its tick after the strategies had ended"
    assert results[0].reason == "end of the --days run" and results[0].stopped_cleanly


def test_unknown_name_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    services = _services(tmp_path, 1, ["iron_condor"])
    with pytest.raises(UnknownStrategy, match=r"known: .*iron_condor"):
        StrategyManager(services).start(["nope"])


def test_state_machine_refuses_illegal_transitions(tmp_path: Path) -> None:
    services = _services(tmp_path, 1, ["iron_condor"])
    s = IronCondor(services, services.config.strategies.iron_condor)
    assert s.state == StrategyState.STOPPED
    with pytest.raises(RuntimeError, match="illegal transition"):
        s._transition(StrategyState.RUNNING)
