"""Fixtures shared by the fake-TWS and IBKRBroker tests (see ``tests/tws_support.py``)."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator

import pytest

# pytest-xdist's workers (and some CI shells) export the runner's terminal size; views read it
# when their consoles are made, at import: drop it before any Seeker module is imported.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

from seeker.core.calendar import MarketCalendars
from seeker.core.sim.broker import SimBroker
from tests.fake_tws import FakeTWS
from tests.tws_support import ACCOUNT, LISTINGS, WireGuard, load_calendars, make_sim


@pytest.fixture
def wire_guard() -> Iterator[WireGuard]:
    """Fail the test on any malformed or misaligned frame, or any error of the fake.

    The guard hooks ib_async's ``Decoder.interpret``, so it watches every decoder: that of a
    plain ``IB`` client in this thread and those of IBKRBroker's gateway threads.
    """
    guard = WireGuard()
    loggers = [logging.getLogger(n) for n in ("ib_async", "fake_tws")]
    for lg in loggers:
        lg.addHandler(guard)
    guard.install()
    try:
        yield guard
    finally:
        guard.uninstall()
        for lg in loggers:
            lg.removeHandler(guard)
    assert guard.problems == [], "bad frames or fake errors:\n" + "\n".join(guard.problems)


@pytest.fixture(scope="session")
def calendars() -> MarketCalendars:
    """Return the exchange calendars the test market needs (loaded once)."""
    return load_calendars()


@pytest.fixture
def sim(calendars: MarketCalendars) -> SimBroker:
    """Return a connected SimBroker on a fresh SimMarket, at the open of 2026-01-05."""
    return make_sim(calendars)


@pytest.fixture
def tws(sim: SimBroker, wire_guard: WireGuard) -> Iterator[FakeTWS]:
    """Run the fake TWS in its own thread and loop on 127.0.0.1:0."""
    server = FakeTWS(sim, LISTINGS, account=ACCOUNT, clock=lambda: sim.market.now)
    server.start_background()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def collect_garbage_after_each_test() -> Iterator[None]:
    """Collect after each test, so an unclosed file fails the test that leaked it."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def no_terminal_size_from_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset COLUMNS and LINES (pytest-xdist's workers and some CI shells export them): a
    test that depends on a width sets it itself, so views render the same however tests run."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
