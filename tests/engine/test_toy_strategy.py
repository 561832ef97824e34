"""Adding a strategy is one package plus one config table: the toy strategy, which lives under
``tests/toy_strategy`` only, registers, validates, passes the strategy contract and trades the
simulated market through the unmodified engine."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seeker.agents.regime import LABELS
from seeker.core.journal import read_events
from seeker.engine.registry import register, registered, unregister
from seeker.engine.runner import run_strategies
from seeker.engine.wiring import build_sim_services
from seeker.reports.audit import cap_violations
from seeker.strategies import BUNDLED
from tests.strategies.contract import StrategyContract
from tests.toy_strategy.strategy import ToyPutSpread

TOY_TABLE: dict[str, Any] = {
    "mode": "trade",
    "underlyings": ["IWM", "EEM", "XLF", "SLV", "BAC"],
    "quantity": 1,
    "max_entries_per_day": 1,
    "max_open_positions": 2,
    "entry_window_start": "10:00:00",
    "entry_window_end": "15:30:00",
    "scan_interval_minutes": 120.0,
    "dte_min": 25,
    "dte_target": 35,
    "dte_max": 50,
    "manage_dte": 14,
    "force_exit_dte": 3,
    "min_credit": 0.07,
    "take_profit_pct": 50.0,
    "wing_widths": [0.5],
    "stop_debit_multiple": 2.0,
    "short_delta": 0.30,
    "regime": {dim: list(labels) for dim, labels in LABELS.items()},
}
"""The toy's config table, as a user would add it under ``[strategies.toy_put_spread]``."""


@pytest.fixture(autouse=True)
def toy_registered() -> Iterator[None]:
    """Register the toy for the test (as its package's ``@register`` would), then remove it."""
    register(ToyPutSpread)
    try:
        yield
    finally:
        unregister(ToyPutSpread.name)


def _times(table: dict[str, Any]) -> dict[str, Any]:
    """Return the table with its times as TOML gives them (datetime.time)."""
    from datetime import time

    out = copy.deepcopy(table)
    for key in ("entry_window_start", "entry_window_end"):
        out[key] = time.fromisoformat(out[key])
    return out


class TestToyContract(StrategyContract):
    """The strategy contract holds for a strategy that lives outside ``seeker/``."""

    name = "toy_put_spread"

    def table(self) -> dict[str, Any]:
        return _times(TOY_TABLE)

    def golden_folder(self) -> Path:
        return Path(__file__).resolve().parents[1] / "toy_strategy" / "golden"


def test_the_toy_lives_outside_the_package_and_the_engine_runs_it(tmp_path: Path) -> None:
    assert ToyPutSpread.__module__.startswith("tests.toy_strategy.")
    assert all(not m.endswith("toy_put_spread") for m in BUNDLED)
    assert registered()["toy_put_spread"] is ToyPutSpread
    contract = TestToyContract()
    cfg = contract.validate(contract.config_data())
    logs = tmp_path / "logs"
    services = build_sim_services(cfg, logs, days=40, emit=lambda _m: None)
    try:
        result = run_strategies(services, ["toy_put_spread"], tick_seconds=0.05)
    finally:
        services.broker.close()
        services.close_journals()
    assert result.stopped_cleanly and result.states == {"toy_put_spread": "stopped"}
    folder = logs / "toy_put_spread"
    fills = read_events(folder, ["FILL"])
    intents = Counter(f["intent"] for f in fills if f.get("kind") == "combo")
    assert intents["open"] >= 1 and intents["close"] >= 1, intents
    orders = read_events(folder, ["ORDER"])
    assert all(o["order_ref"].startswith("seeker:toy_put_spread:toy-") for o in orders)
    closes = {f["exit_rule"] for f in fills if f["intent"] == "close" and f.get("kind") == "combo"}
    assert closes <= {"force_exit", "stop", "manage_dte", "take_profit", "event_close", "expiry"}
    assert read_events(folder, ["POST_TRADE"])
    assert cap_violations(logs, cfg.caps()) == []
