"""Services.history: the broker is asked once per listing and day; the last n sessions are cut once
from that day's history and cut again when the day (or the history) changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest

from seeker.config.loading import validate_config
from seeker.engine.services import Services
from seeker.engine.wiring import build_sim_services
from tests.support import ROOT, shipped, strategy_config_models


@pytest.fixture()
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The shipped config's services on the simulated market."""
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    s = build_sim_services(cfg, tmp_path_factory.mktemp("hist"), days=5, emit=lambda _m: None)
    try:
        yield s
    finally:
        s.broker.close()
        s.close_journals()


def test_the_same_cut_is_given_until_the_day_changes(services: Services) -> None:
    lid = sorted(services.listings)[0]
    asked: list[int] = []
    fetch = services.broker.history

    def counting(listing_id: str, sessions: int):  # type: ignore[no-untyped-def]
        asked.append(sessions)
        return fetch(listing_id, sessions)

    services.broker.history = counting  # type: ignore[method-assign]
    five = services.history(lid, 5)
    assert services.history(lid, 5) is five
    twenty = services.history(lid, 20)
    assert len(five) == 5 and len(twenty) == 20
    assert five.dates == twenty.dates[-5:]
    np.testing.assert_array_equal(five.close, twenty.close[-5:])
    assert len(asked) == 1  # one fetch that day, large enough for both

    # the next session: a new history, and a new cut of it
    services.clock.sleep_until(services.clock.now() + timedelta(days=1))
    later = services.history(lid, 5)
    assert len(asked) == 2
    assert later is not five
    assert later.dates[-1] > five.dates[-1]
    assert later.dates[-2] == five.dates[-1] or later.dates[-2] > five.dates[-2]
    assert services.history(lid, 5) is later
