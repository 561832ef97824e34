"""The simulated broker's durable record: what a new broker object reads back after a kill.

A "kill" here is a broker object dropped without ``close()`` (nothing more is written), and the
next one built on the same folder: the execution log, the account snapshot and the clock file
must give it the same account, the same executions, a time no earlier and no order id reused.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.config.loading import validate_config
from seeker.core.calendar import MARKET_TZ
from seeker.core.execution import combo_natural
from seeker.core.models import ComboOrder
from seeker.core.sim.ledger import CLOCK_BYTES
from seeker.engine.wiring import SIM_STATE_FILE, build_sim_services
from tests.core.test_sim_broker import _condor
from tests.support import ROOT, shipped, strategy_config_models


def services(root: Path) -> Any:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    return build_sim_services(cfg, root, days=5, emit=lambda _m: None)


def trade(s: Any, ref: str) -> str:
    """Fill one condor at its natural; return the broker's order id."""
    legs, quotes = _condor(s)
    state = s.broker.place_order(ComboOrder(ref, "XLF", legs, 1, combo_natural(legs, quotes)))
    assert state.fills
    return str(state.order_id)


def holdings(s: Any) -> dict[Any, int]:
    return {p.contract: p.qty for p in s.broker.positions()}


def test_a_dropped_broker_resumes_time_executions_and_ids(tmp_path: Path) -> None:
    first = services(tmp_path)
    first.broker.on_time(datetime(2026, 1, 5, 11, 0, tzinfo=MARKET_TZ))
    oid = trade(first, "seeker:t:p1:open")
    first.broker.on_time(datetime(2026, 1, 5, 13, 30, tzinfo=MARKET_TZ))  # no fill: clock only
    # killed: no close(), no final save
    again = services(tmp_path)
    assert again.clock.now() == datetime(2026, 1, 5, 13, 30, tzinfo=MARKET_TZ)
    assert holdings(again) == holdings(first)
    assert again.broker.account().cash == first.broker.account().cash
    assert [f.fill_id for f in again.broker.executions()] == [f"{oid}.1"]
    later = trade(again, "seeker:t:p2:open")
    assert int(later[1:]) > int(oid[1:])  # never the same id again
    assert (tmp_path / "_seeker" / "sim_clock.json").stat().st_size == CLOCK_BYTES


def test_executions_after_the_snapshot_are_replayed_from_the_log(tmp_path: Path) -> None:
    """Fills are not snapshot one by one: the execution log is the record a new broker reads."""
    first = services(tmp_path)
    first.broker.on_time(datetime(2026, 1, 5, 11, 0, tzinfo=MARKET_TZ))
    trade(first, "seeker:t:p1:open")
    trade(first, "seeker:t:p2:open")
    assert not (tmp_path / SIM_STATE_FILE).exists()  # no snapshot yet: the log holds it all
    again = services(tmp_path)
    assert holdings(again) == holdings(first)
    assert again.broker.account().cash == first.broker.account().cash


def test_an_unreadable_snapshot_is_rebuilt_from_the_execution_log(tmp_path: Path) -> None:
    first = services(tmp_path)
    first.broker.on_time(datetime(2026, 1, 5, 11, 0, tzinfo=MARKET_TZ))
    trade(first, "seeker:t:p1:open")
    first.broker.on_time(datetime(2026, 1, 5, 11, 30, tzinfo=MARKET_TZ))
    (tmp_path / SIM_STATE_FILE).write_bytes(b'{"version": 2, "se')  # what a power cut may leave
    again = services(tmp_path)
    assert holdings(again) == holdings(first)
    assert again.broker.account().cash == first.broker.account().cash
    assert again.clock.now() == datetime(2026, 1, 5, 11, 30, tzinfo=MARKET_TZ)


def test_a_torn_execution_line_never_happened(tmp_path: Path) -> None:
    """An execution whose log line was cut was never booked nor reported: it is skipped."""
    first = services(tmp_path)
    first.broker.on_time(datetime(2026, 1, 5, 11, 0, tzinfo=MARKET_TZ))
    trade(first, "seeker:t:p1:open")
    cash = dict(first.broker.account().cash)
    held = holdings(first)
    trade(first, "seeker:t:p2:open")
    log = tmp_path / "_seeker" / "executions.jsonl"
    data = log.read_bytes()
    cut = data.rstrip(b"\n").rfind(b"\n") + 1
    log.write_bytes(data[: cut + (len(data) - cut) // 2])  # the second line cut in half
    again = services(tmp_path)
    assert len(again.broker.executions()) == 1
    assert holdings(again) == held and again.broker.account().cash == cash
