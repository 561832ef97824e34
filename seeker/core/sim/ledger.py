"""The simulated broker's durable state: an execution log written ahead, and two snapshots.

Files, beside each other in the log folder's ``_seeker/``:

* ``executions.jsonl`` — every execution (combo fill with its legs, currency conversion), one
  line each with a sequence number, appended and fsynced **before** the fill exists anywhere
  else (write-ahead): this is the broker's record that Seeker's journals are reconciled with;
* ``sim_state.json`` — cash, positions, settlements and the sequence number of the last
  execution they include, replaced atomically (write, rename; no fsync: the execution log is the
  durable record) after each settlement and at a clean stop; executions after that number are
  replayed at load (a few hundred a simulated year), and a snapshot a power cut left unreadable
  is rebuilt from the log;
* ``sim_clock.json`` — the simulated time and the order-id ceiling, overwritten in place at every
  clock step by one small write (a killed process cannot tear it and loses nothing that reached
  the page cache; only a power cut could, and then the journals' own timestamps bound the time).

Cost per clock step: one ``pwrite`` of 128 bytes (a rename there costs about a millisecond on
ext4, which replaces-via-rename with an early writeback; thousands of steps a simulated year).

Order ids are taken in blocks: the ceiling written to the clock file is always above every id
handed out, so ids never repeat after a kill (a kill skips the rest of the block).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from seeker.core import journal_faults
from seeker.core.journal import JournalWriteError, JsonlWriter, read_jsonl
from seeker.core.models import Fill, LegFill, OptionContract

Positions = Mapping[OptionContract, tuple[int, float]]
"""Signed quantity and average cost ($ per share) per contract."""

STATE_VERSION = 2
READABLE_VERSIONS = frozenset({1, 2})
"""Snapshot versions this code reads (1: before the execution log existed)."""
EXECUTIONS_FILE = "executions.jsonl"
CLOCK_FILE = "sim_clock.json"
ID_BLOCK = 100
"""Order ids reserved per write of the clock file."""
CLOCK_BYTES = 128
"""Fixed size of the clock file: every write replaces all of it in one pwrite."""


class SimLedger:
    """Read and write the simulated broker's execution log and snapshots."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.executions_path = state_path.with_name(EXECUTIONS_FILE)
        self.clock_path = state_path.with_name(CLOCK_FILE)
        self._writer: JsonlWriter | None = None
        self._clock_fd: int | None = None

    # -- reading -----------------------------------------------------------------------------
    def read_state(self) -> dict[str, Any] | None:
        """Return the last account snapshot, None when there is none."""
        return _read_json(self.state_path)

    def read_clock(self) -> dict[str, Any] | None:
        """Return the last clock and id-ceiling snapshot, None when there is none."""
        return _read_json(self.clock_path)

    def read_executions(self) -> list[dict[str, Any]]:
        """Return every execution of the log, oldest first (a torn last line is skipped)."""
        return [row for row in read_jsonl(self.executions_path) if row.get("event") == "EXEC"]

    # -- writing -----------------------------------------------------------------------------
    def append_execution(self, record: Mapping[str, Any]) -> None:
        """Append one execution and return once it is on disk (JournalWriteError if it is not)."""
        if self._writer is None:
            try:
                self._writer = JsonlWriter(self.executions_path)
            except OSError as exc:
                raise JournalWriteError(self.executions_path, exc) from exc
        self._writer.write([{"event": "EXEC", **record}])

    def write_state(self, raw: Mapping[str, Any]) -> None:
        """Replace the account snapshot atomically (OSError if it cannot)."""
        _replace(self.state_path, json.dumps(raw, indent=1).encode(), "STATE")

    def write_clock(self, now: datetime, id_ceiling: int) -> None:
        """Overwrite the clock snapshot in place with one write (OSError if it cannot)."""
        data = f'{{"now":"{now.isoformat()}","id_ceiling":{id_ceiling}}}'.encode()
        fault = journal_faults.before("CLOCK") if journal_faults.ARMED else None
        if fault is not None:
            raise journal_faults.disk_full_error(self.clock_path)
        if self._clock_fd is None:
            self.clock_path.parent.mkdir(parents=True, exist_ok=True)
            self._clock_fd = os.open(self.clock_path, os.O_RDWR | os.O_CREAT, 0o644)
            os.ftruncate(self._clock_fd, CLOCK_BYTES)
        if os.pwrite(self._clock_fd, data.ljust(CLOCK_BYTES), 0) != CLOCK_BYTES:
            raise OSError(f"{self.clock_path}: short write")
        if journal_faults.ARMED:
            journal_faults.after("CLOCK")

    def close(self) -> None:
        """Close the execution log and the clock file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._clock_fd is not None:
            os.close(self._clock_fd)
            self._clock_fd = None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable simulated broker state ({exc})") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: unreadable simulated broker state (not an object)")
    return raw


def _replace(path: Path, data: bytes, point: str) -> None:
    """Write `data` to a temporary file and rename it over `path` (the test hooks around it)."""
    fault = journal_faults.before(point) if journal_faults.ARMED else None
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        if fault is not None:
            raise journal_faults.disk_full_error(tmp)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if journal_faults.ARMED:
        journal_faults.after(point)


def execution_record(
    seq: int,
    fill: Fill,
    listing_id: str,
    kind: str,
    cash: Mapping[str, Sequence[float]],
    signed: Sequence[int],
) -> dict[str, Any]:
    """Return the log line of one execution: the fill, its cash amounts and each leg's booking.

    `cash` lists, per currency, the amounts added to cash in order; `signed` is each leg's
    signed quantity (contracts; negative = sold).
    """
    return {
        "seq": seq,
        "kind": kind,
        "exec_id": fill.fill_id,
        "order_id": fill.order_id,
        "order_ref": fill.order_ref,
        "listing_id": listing_id,
        "ts": fill.ts,
        "qty": fill.qty,
        "price": fill.price,
        "commission": fill.commission,
        "currency": fill.commission_currency,
        "cash": {ccy: list(amounts) for ccy, amounts in cash.items()},
        "legs": [
            {
                "expiry": lf.contract.expiry,
                "strike": lf.contract.strike,
                "right": lf.contract.right,
                "action": lf.action,
                "qty": lf.qty,
                "signed_qty": qty,
                "price": lf.price,
                "commission": lf.commission,
                "exec_id": lf.exec_id,
            }
            for lf, qty in zip(fill.legs, signed, strict=True)
        ],
    }


def fill_of(row: Mapping[str, Any]) -> Fill:
    """Return the Fill of one line of the execution log."""
    listing_id = str(row["listing_id"])
    legs = tuple(
        LegFill(
            contract=OptionContract(
                listing_id, date.fromisoformat(leg["expiry"]), float(leg["strike"]), leg["right"]
            ),
            action=leg["action"],
            qty=int(leg["qty"]),
            price=float(leg["price"]),
            commission=float(leg["commission"]),
            exec_id=str(leg["exec_id"]),
        )
        for leg in row.get("legs", ())
    )
    return Fill(
        fill_id=str(row["exec_id"]),
        order_id=str(row["order_id"]),
        order_ref=str(row["order_ref"]),
        ts=datetime.fromisoformat(row["ts"]),
        qty=int(row["qty"]),
        price=float(row["price"]),
        commission=float(row["commission"]),
        commission_currency=str(row["currency"]),
        legs=legs,
    )


def leg_bookings(row: Mapping[str, Any]) -> list[tuple[OptionContract, int, float]]:
    """Return (contract, signed quantity, price) of each leg of a logged execution."""
    return [
        (
            OptionContract(
                row["listing_id"], date.fromisoformat(leg["expiry"]), leg["strike"], leg["right"]
            ),
            int(leg["signed_qty"]),
            float(leg["price"]),
        )
        for leg in row.get("legs", ())
    ]


def id_number(order_id: str) -> int:
    """Return the number of a simulated order id ``S<n>`` (0 for anything else)."""
    digits = order_id[1:]
    return int(digits) if order_id.startswith("S") and digits.isdigit() else 0


def snapshot(
    seed: int,
    now: datetime,
    cash: Mapping[str, float],
    next_id: int,
    exec_seq: int,
    positions: Positions,
    settled: Iterable[date],
    settlements: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Return the account snapshot written to ``sim_state.json``."""
    return {
        "version": STATE_VERSION,
        "seed": seed,
        "now": now.isoformat(),
        "cash": dict(cash),
        "next_id": next_id,
        "exec_seq": exec_seq,
        "positions": [
            {
                "listing_id": c.listing_id,
                "expiry": c.expiry.isoformat(),
                "strike": c.strike,
                "right": c.right,
                "qty": q,
                "avg_cost": cost,
            }
            for c, (q, cost) in sorted(positions.items())
        ],
        "settled": sorted(d.isoformat() for d in settled),
        "settlements": list(settlements),
    }


def positions_of(raw: Mapping[str, Any]) -> dict[OptionContract, tuple[int, float]]:
    """Return the positions of an account snapshot."""
    out: dict[OptionContract, tuple[int, float]] = {}
    for row in raw["positions"]:
        c = OptionContract(
            row["listing_id"], date.fromisoformat(row["expiry"]), row["strike"], row["right"]
        )
        out[c] = (int(row["qty"]), float(row["avg_cost"]))
    return out
