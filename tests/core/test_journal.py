"""Journal: fsynced JSON Lines, concurrent writers, torn lines skipped with a warning."""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, IntEnum
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.core.calendar import MARKET_TZ
from seeker.core.journal import (
    Journal,
    JsonlWriter,
    read_events,
    read_jsonl,
    to_json_line,
    to_jsonable,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=MARKET_TZ)


def test_lines_go_to_their_files_with_event_and_ts(tmp_path: Path) -> None:
    j = Journal(tmp_path, "iron_condor", lambda: T0)
    j.write("ORDER", order_id="o1", limit_price=-0.12, nan=math.nan)
    j.write("DECISION", decision_id="d1", outcome="no_trade")
    j.write("RISK", rule="x", detail="y")
    j.close()
    folder = tmp_path / "iron_condor"
    order = json.loads((folder / "trades.jsonl").read_text())
    assert order == {
        "event": "ORDER",
        "ts": "2026-03-02T10:00:00-05:00",
        "order_id": "o1",
        "limit_price": -0.12,
        "nan": None,
    }
    assert (folder / "decisions.jsonl.gz").exists() and (folder / "risk_events.jsonl").exists()
    with pytest.raises(ValueError):
        j.record("NOPE")


def test_torn_last_line_is_skipped_and_the_next_write_starts_clean(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s" / "trades.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"event":"ORDER","order_id":"a"}\n{"event":"FILL","order_')
    with caplog.at_level(logging.WARNING):
        rows = list(read_jsonl(path))
    assert [r["order_id"] for r in rows] == ["a"]
    assert "skipped" in caplog.text
    w = JsonlWriter(path)
    w.write([{"event": "FILL", "order_id": "b"}])
    w.close()
    assert [r["order_id"] for r in read_jsonl(path)] == ["a", "b"]


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    j = Journal(tmp_path, "x", lambda: T0)

    def worker(k: int) -> None:
        for i in range(200):
            j.write("FILL", order_id=f"{k}-{i}", payload="x" * 500)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    j.close()
    rows = read_events(tmp_path / "x", ["FILL"])
    assert len(rows) == 800
    assert len({r["order_id"] for r in rows}) == 800


def test_write_many_batches_per_file(tmp_path: Path) -> None:
    j = Journal(tmp_path, "x", lambda: T0)
    j.write_many(
        [
            j.record("ORDER", order_id="1"),
            j.record("RISK", rule="r"),
            j.record("FILL", order_id="1"),
        ]
    )
    j.close()
    assert [r["event"] for r in read_events(tmp_path / "x", ["ORDER", "FILL"])] == ["ORDER", "FILL"]


_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
)
_json_trees = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


def _plain(value: object) -> object:
    """Return what a journal line must read back as: non-finite floats become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _json_trees, max_size=6))
def test_a_line_reads_back_as_written_by_any_json_reader(record: dict[str, object]) -> None:
    line = to_json_line(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == _plain(record)  # the standard library reads what orjson wrote


def test_reader_returns_every_written_line_and_skips_a_corrupt_one(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    lines = [{"event": "E", "n": i, "x": 10.0**-i, "s": "é→€"} for i in range(12)]
    path.write_bytes(
        b"".join(map(to_json_line, lines[:6]))
        + b"{not json\n"
        + b"".join(map(to_json_line, lines[6:]))
    )
    assert list(read_jsonl(path)) == lines


class _Side(Enum):
    BUY = "BUY"


class _Qty(IntEnum):
    ONE = 1


class _Named(str, Enum):  # noqa: UP042 - the mixin whose str() is not its value
    CALL = "C"


class _Pair(NamedTuple):
    strike: float
    right: str


@dataclass(frozen=True)
class _Leg:
    strike: float
    when: datetime


_times = st.datetimes(  # zone offsets in whole minutes (LMT offsets before 1883 are not)
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=st.sampled_from([MARKET_TZ, UTC]),
)
_leaves = (
    _json_scalars
    | _times
    | st.dates()
    | st.sampled_from([*_Side, *_Qty, *_Named])
    | st.builds(_Pair, st.floats(allow_nan=True), st.sampled_from(["C", "P"]))
    | st.builds(_Leg, st.floats(), _times)
    | st.floats(allow_nan=True).map(np.float64)
    | st.integers(-5, 5).map(np.int64)
    | st.frozensets(st.integers(0, 9), max_size=3)
)
_odd_trees = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4) | st.integers(0, 3) | st.dates(), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _odd_trees, max_size=5))
def test_a_line_is_the_same_bytes_as_its_plain_conversion(record: dict[str, object]) -> None:
    """orjson's own handling of dates, enums, dataclasses and NaN writes what to_jsonable would."""
    assert to_json_line(record) == orjson.dumps(to_jsonable(record)) + b"\n"


def test_equity_marks_wait_for_the_derived_timer_and_a_limit_line_syncs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account's EQUITY batches reach the OS at once but are fsynced on the derived timer;
    a LIMIT line in the same file is fsynced at once, and with it every mark written before."""
    import os

    from seeker.core import journal as journal_module

    synced: list[str] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    monkeypatch.setattr(journal_module, "DERIVED_SYNC_SECONDS", 3600.0)
    j = Journal(tmp_path, "_seeker", lambda: T0)
    account = str(tmp_path / "_seeker" / "account.jsonl")
    for batch in range(3):
        j.write_many([j.record("EQUITY", equity=1000.0 - batch, n=k) for k in range(4)])
    assert len(read_events(tmp_path / "_seeker", ["EQUITY"])) == 12  # on the OS already
    assert synced.count(account) == 0
    j.write("LIMIT", limit="drawdown", change="trip")
    assert synced.count(account) == 1
    j.write_many([j.record("EQUITY", equity=900.0), j.record("LIMIT", limit="x", change="reset")])
    assert synced.count(account) == 2  # a batch with a money line is fsynced whole
    j.close()
    assert synced.count(account) == 3
