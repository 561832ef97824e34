"""Tests for seeker.research.sources: the sessions a source grades are the sessions a run visits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from seeker.config.loading import load_config, read_toml, validate_config
from seeker.config.root import SeekerConfig
from seeker.engine import wiring
from seeker.research.sources import ReplaySource, SimSource
from tests.support import SHIPPED, strategy_config_models


def test_sim_sessions_are_the_runs_sessions_and_the_tail_is_not_graded(tmp_path: Path) -> None:
    cfg = load_config(SHIPPED, strategy_config_models())
    source = SimSource(seed=5, sessions=7, tail=3)
    graded, visited = source.graded_sessions(cfg), source.sessions_of(cfg)
    assert len(graded) == 7 and visited[:7] == graded and len(visited) == 10
    services = source.build(seeded_config(source), tmp_path)
    try:
        first = services.clock.now().date()
        last = wiring.session_end(services.calendars, services.clock.now(), 10).date()
    finally:
        services.broker.close()
        services.close_journals()
    assert (first, last) == (visited[0], visited[-1])
    assert source.key == "sim seed 5, 7+3 sessions"
    assert source.configure({"sim": {"seed": 1}})["sim"]["seed"] == 5


def seeded_config(source: SimSource) -> SeekerConfig:
    """Return the shipped config with the source's seed (what a run validates)."""
    data = source.configure(read_toml(SHIPPED))
    return validate_config(data, strategy_config_models(), SHIPPED.parent)


def test_a_replay_source_lists_its_stores_quote_dates(tmp_path: Path) -> None:
    from seeker.core.replay.importers import import_chains
    from tests.core.replay.shared_data import chain_file

    store = tmp_path / "store"
    import_chains("cboe-delayed", [chain_file("20190702"), chain_file("20190703")], store)
    cfg = load_config(SHIPPED, strategy_config_models())
    source = ReplaySource(data=str(store), first=date(2019, 7, 1), last=date(2019, 7, 2), tail=1)
    assert source.graded_sessions(cfg) == (date(2019, 7, 2),)
    assert source.run_last() == date(2019, 7, 3)
    empty = ReplaySource(data=str(store), first=date(2020, 1, 1), last=date(2020, 2, 1))
    with pytest.raises(ValueError, match="no quote date from 2020-01-01 to 2020-02-01"):
        empty.graded_sessions(cfg)
    missing = ReplaySource(
        data=str(tmp_path / "none"), first=date(2019, 1, 1), last=date(2019, 2, 1)
    )
    with pytest.raises(ValueError, match="seeker data import"):
        missing.graded_sessions(cfg)
