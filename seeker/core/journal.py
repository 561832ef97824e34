"""Append-only JSON Lines journals, one folder per strategy, and a crash-tolerant reader.

Files under ``<log_dir>/<strategy>/``: ``trades.jsonl`` (ORDER, FILL, ORDER_STATUS),
``risk_events.jsonl`` (RISK), ``decisions.jsonl`` (DECISION) and ``analysis.jsonl`` (CONFIDENCE,
POST_TRADE); the process itself writes RUN lines to ``_seeker/runs.jsonl``, the account's
EQUITY and LIMIT lines to ``_seeker/account.jsonl``, a person's commands (CONTROL) to
``_seeker/control.jsonl`` and each listing's regime of the day (REGIME) to
``_seeker/regimes.jsonl``. Every line is one JSON object with ``event`` and ``ts`` (ISO 8601 with
zone). A torn last line (a crash mid-write) is skipped with a warning when read, never fatal.
Derived files are stored gzip-compressed beside their plain name (``decisions.jsonl.gz``: see
:mod:`seeker.core.journal_files`); readers take the plain name and read both parts.

Durability: every write reaches the operating system before it returns (a killed process loses
nothing it wrote). Lines that record money, a refusal or a person's command — ``trades.jsonl``
(ORDER, ORDER_STATUS, FILL), ``risk_events.jsonl``, ``runs.jsonl``, ``account.jsonl``,
``control.jsonl`` — are also fsynced before the write returns (several lines of one step share one
fsync), so they survive a power loss too. Derived lines — ``decisions.jsonl``, ``analysis.jsonl``,
``regimes.jsonl`` (DECISION, STRATEGY, CONFIDENCE, POST_TRADE, REGIME), which can be rebuilt
from the market and the money lines — are fsynced at most once per ``DERIVED_SYNC_SECONDS`` and
when the journal closes; so is a batch of the account's EQUITY marks (derived too) in
``account.jsonl``, whose next LIMIT line is fsynced with every mark written before it.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time as time_mod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time
from enum import Enum
from math import isfinite
from pathlib import Path
from typing import Any

import orjson

from seeker.core import journal_faults
from seeker.core.decision_lines import REGIMES_FILE, expand_decisions, load_regimes
from seeker.core.journal_files import MemberEncoder, compressed_path, forward_lines, repair_tail

log = logging.getLogger(__name__)

EVENT_FILES: dict[str, str] = {
    "ORDER": "trades.jsonl",
    "FILL": "trades.jsonl",
    "ORDER_STATUS": "trades.jsonl",
    "RISK": "risk_events.jsonl",
    "DECISION": "decisions.jsonl",
    "REGIME": "regimes.jsonl",
    "STRATEGY": "decisions.jsonl",
    "CONFIDENCE": "analysis.jsonl",
    "POST_TRADE": "analysis.jsonl",
    "RUN": "runs.jsonl",
    "EQUITY": "account.jsonl",
    "LIMIT": "account.jsonl",
    "CONTROL": "control.jsonl",
    "SNAPSHOT": "replay.jsonl",
    "REGIME_CHECK": "replay.jsonl",
}
"""Which file each event kind goes to."""

DERIVED_FILES = frozenset({"decisions.jsonl", "analysis.jsonl", "regimes.jsonl"})
"""Files of derived lines: flushed at every write, fsynced at most every DERIVED_SYNC_SECONDS."""

DERIVED_SYNC_SECONDS = 1.0
"""Longest time (wall clock) a derived line may wait for its fsync, seconds."""

DERIVED_EVENTS = frozenset({"DECISION", "STRATEGY", "CONFIDENCE", "POST_TRADE", "REGIME", "EQUITY"})
"""Events of derived lines: a batch of only these is fsynced on the derived timer, whatever the
file (the account's EQUITY marks share ``account.jsonl`` with its LIMIT lines)."""

SYSTEM_FOLDER = "_seeker"
"""Folder for process-level events that belong to no strategy."""

SHADOW_SUFFIX = ".shadow"
"""A strategy in shadow mode journals under ``<strategy>.shadow``, apart from real trading."""


_PLAIN: frozenset[type] = frozenset({str, int, bool, type(None)})
"""Types that are already JSON values (exact types: subclasses take the general path)."""


def to_jsonable(value: Any) -> Any:
    """Return `value` as plain JSON types: NaN/inf become null, dates ISO strings, arrays lists."""
    t = type(value)
    if t in _PLAIN:
        return value
    if t is float:
        return value if isfinite(value) else None
    if t is dict:
        return _dict_to_jsonable(value)
    if t is list or t is tuple:
        return [v if type(v) in _PLAIN else to_jsonable(v) for v in value]
    return _other_to_jsonable(value)


def _dict_to_jsonable(value: dict[Any, Any]) -> dict[str, Any]:
    """Return a dict as plain JSON types (keys as strings), with its plain values inline."""
    out: dict[str, Any] = {}
    for k, v in value.items():
        if type(k) is not str:
            k = str(k)
        t = type(v)
        if t in _PLAIN:
            out[k] = v
        elif t is float:
            out[k] = v if isfinite(v) else None
        elif t is dict:
            out[k] = _dict_to_jsonable(v)
        else:
            out[k] = to_jsonable(v)
    return out


def _other_to_jsonable(value: Any) -> Any:
    """Return `value` as plain JSON types (everything but exact plain types, dicts and lists).

    Subclasses of the plain types (numpy's float64, IntEnum, StrEnum members) become the exact
    type: the encoder takes exact floats only.
    """
    if value is None or isinstance(value, bool):  # bool has no subclasses
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    np = sys.modules.get("numpy")  # no numpy value exists before numpy is imported
    if np is not None and isinstance(value, (np.floating, np.integer, np.bool_)):
        return to_jsonable(value.item())
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return to_jsonable(value._asdict())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if np is not None and isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot journal a {type(value).__name__}: {value!r}")


def to_json_line(record: Mapping[str, Any]) -> bytes:
    """Return one compact JSON line (UTF-8, newline-terminated) of a record.

    orjson writes it directly: compact, non-ASCII as UTF-8, each float in its shortest round-trip
    form (``0.000083`` where the standard module writes ``8.3e-05``), NaN and infinities as null,
    dates and times in ISO 8601; types it does not know (named tuples, numpy values, sets, paths)
    go through :func:`to_jsonable`. A record it refuses (a key that is not a string, an integer
    beyond 64 bits) is converted whole by :func:`to_jsonable` first: the same line either way.
    """
    try:
        return orjson.dumps(record, default=to_jsonable) + b"\n"
    except TypeError:
        return orjson.dumps(to_jsonable(record)) + b"\n"


class JournalWriteError(Exception):
    """Raise when a journal line could not be written (disk full, read-only, I/O error).

    The writer refuses every later write (a line cut by the failure must not be glued to the next
    one); what the broker did meanwhile is recovered from its executions at the next start.
    """

    def __init__(self, path: Path, cause: OSError | str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


class JsonlWriter:
    """Append JSON objects to one file, each batch written whole; thread-safe.

    Every batch reaches the OS before `write` returns (unbuffered appends). A durable writer
    also fsyncs every batch; another fsyncs at most once per `sync_seconds` (monotonic wall time)
    and when it closes. A `compressed` writer stores gzip members, each batch ending on a sync
    point (:mod:`seeker.core.journal_files`).
    """

    def __init__(
        self,
        path: Path,
        durable: bool = True,
        sync_seconds: float = 0.0,
        compressed: bool = False,
    ) -> None:
        self.path = path
        self.durable = durable
        self.sync_seconds = sync_seconds
        self._synced_at = time_mod.monotonic()
        self._lock = threading.Lock()
        self._broken: JournalWriteError | None = None
        self._encoder = MemberEncoder() if compressed else None
        path.parent.mkdir(parents=True, exist_ok=True)
        if compressed:
            repair_tail(path)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if not compressed:
            self._isolate_torn_tail()

    def _isolate_torn_tail(self) -> None:
        """Start on a fresh line if a crash left the file without a final newline."""
        size = os.fstat(self._fileno()).st_size
        if size == 0:
            return
        with self.path.open("rb") as fh:
            fh.seek(size - 1)
            last = fh.read(1)
        if last != b"\n":
            log.warning("%s: last line was torn by an earlier crash; it will be skipped", self.path)
            self._write_all(b"\n")
            os.fsync(self._fileno())

    def _fileno(self) -> int:
        if self._fd is None:
            raise JournalWriteError(self.path, "the journal file is closed")
        return self._fd

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        fd = self._fileno()
        while view:
            view = view[os.write(fd, view) :]

    def _fail(self, exc: OSError) -> JournalWriteError:
        self._broken = JournalWriteError(self.path, exc)
        log.error("journal write failed: %s", self._broken)
        return self._broken

    def _sync_due(self, derived: bool) -> bool:
        """Return True when this write must be fsynced.

        A durable writer fsyncs every write but a `derived` one; derived writes (and every write
        of a writer that is not durable) are fsynced at most once per period: `sync_seconds`, or
        DERIVED_SYNC_SECONDS on a durable writer.
        """
        now = time_mod.monotonic()
        if self.durable and not derived:
            self._synced_at = now
            return True
        period = DERIVED_SYNC_SECONDS if self.durable else self.sync_seconds
        if now - self._synced_at >= period:
            self._synced_at = now
            return True
        return False

    def write(self, records: Iterable[Mapping[str, Any]], derived: bool = False) -> None:
        """Append records, one per line; return once the OS has them (and the disk, if durable
        and the records are not `derived`: those wait for the derived timer).

        Raise JournalWriteError when they cannot be written (and for every write after that).
        """
        if journal_faults.ARMED:
            self._write_hooked(list(records))
            return
        data = b"".join(map(to_json_line, records))
        if not data:
            return
        with self._lock:
            if self._broken is not None:
                raise self._broken
            if self._encoder is not None:
                data = self._encoder.encode(data)
            try:
                self._write_all(data)
                if self._sync_due(derived):
                    os.fsync(self._fileno())
            except OSError as exc:
                raise self._fail(exc) from exc

    def _write_hooked(self, records: list[Mapping[str, Any]]) -> None:
        """Write line by line through the test hooks (:mod:`seeker.core.journal_faults`)."""
        with self._lock:
            for record in records:
                if self._broken is not None:
                    raise self._broken
                point = journal_faults.point_of(record)
                data = to_json_line(record)
                if self._encoder is not None:
                    data = self._encoder.encode(data)
                try:
                    fault = journal_faults.before(point)
                    if fault is not None:
                        if fault == "torn":
                            self._write_all(data[: len(data) // 2])
                        raise journal_faults.disk_full_error(self.path)
                    self._write_all(data)
                    os.fsync(self._fileno())
                except OSError as exc:
                    raise self._fail(exc) from exc
                journal_faults.after(point)

    def close(self) -> None:
        """Sync and close the file (quietly when an earlier write already failed)."""
        with self._lock:
            if self._fd is None:
                return
            fd = self._fd
            try:
                if self._encoder is not None and self._broken is None:
                    self._write_all(self._encoder.finish())
            except OSError as exc:
                log.warning("%s: could not finish the compressed member: %s", self.path, exc)
            self._fd = None
            try:
                os.fsync(fd)
            except OSError as exc:
                if self._broken is None:
                    log.warning("%s: final sync failed: %s", self.path, exc)
            finally:
                os.close(fd)


class Journal:
    """The journals of one strategy (or of the process, folder ``_seeker``)."""

    def __init__(
        self,
        root: Path,
        name: str,
        now: Callable[[], datetime],
        listener: Callable[[str, Mapping[str, Any]], None] | None = None,
        on_fault: Callable[[JournalWriteError], None] | None = None,
    ) -> None:
        self.folder = root / name
        self.name = name
        self._now = now
        self._listener = listener
        self._on_fault = on_fault
        self._writers: dict[str, JsonlWriter] = {}
        self._lock = threading.Lock()
        self.folder.mkdir(parents=True, exist_ok=True)

    def _writer(self, filename: str) -> JsonlWriter:
        with self._lock:
            writer = self._writers.get(filename)
            if writer is None:
                derived = filename in DERIVED_FILES
                path = self.folder / filename
                writer = JsonlWriter(
                    compressed_path(path) if derived else path,
                    durable=not derived,
                    sync_seconds=DERIVED_SYNC_SECONDS if derived else 0.0,
                    compressed=derived,
                )
                self._writers[filename] = writer
            return writer

    def _write(self, filename: str, lines: list[Mapping[str, Any]]) -> None:
        """Write lines to one file; tell the fault listener (then re-raise) when it fails."""
        try:
            writer = self._writer(filename)
            derived = writer.durable and all(line["event"] in DERIVED_EVENTS for line in lines)
            writer.write(lines, derived)
        except JournalWriteError as exc:
            if self._on_fault is not None:
                self._on_fault(exc)
            raise
        except OSError as exc:  # the file could not even be opened
            err = JournalWriteError(self.folder / filename, exc)
            if self._on_fault is not None:
                self._on_fault(err)
            raise err from exc

    def record(self, event: str, **fields: Any) -> dict[str, Any]:
        """Return a journal line (not yet written) with event and ts set."""
        if event not in EVENT_FILES:
            raise ValueError(f"unknown journal event {event!r}")
        line: dict[str, Any] = {"event": event, "ts": self._now()}
        line.update(fields)
        return line

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        """Write one line and return it once written (see the module's durability rule)."""
        line = self.record(event, **fields)
        self._write(EVENT_FILES[event], [line])
        if self._listener is not None:
            self._listener(self.name, line)
        return line

    def write_many(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Write lines made by :meth:`record`, one write (and at most one fsync) per file."""
        by_file: dict[str, list[Mapping[str, Any]]] = {}
        for line in lines:
            by_file.setdefault(EVENT_FILES[line["event"]], []).append(line)
        for filename, batch in by_file.items():
            self._write(filename, batch)
            if self._listener is not None:
                for line in batch:
                    self._listener(self.name, line)

    def close(self) -> None:
        """Flush and close every file."""
        with self._lock:
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the objects of a journal (plain and compressed parts), skipping torn or corrupt
    lines with a warning."""
    for number, raw in enumerate(forward_lines(path), start=1):
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            log.warning("%s: line %d torn or corrupt, skipped: %.60r", path, number, raw)
            continue
        if isinstance(obj, dict):
            yield obj
        else:
            log.warning("%s: line %d not a JSON object, skipped", path, number)


def read_events(
    folder: Path, events: Iterable[str] | None = None, legs: bool = False
) -> list[dict[str, Any]]:
    """Return the lines of one journal folder, optionally only some events, in file order.

    FILL lines of single legs (``kind: "leg"``, written beside each combo fill) are left out
    unless `legs` is True: every figure is derived from the combo fills. DECISION lines come in
    the full shape (compact ones are expanded, see ``seeker.core.decision_lines``).
    """
    wanted = set(events) if events is not None else set(EVENT_FILES)
    files = sorted({EVENT_FILES[e] for e in wanted})
    out: list[dict[str, Any]] = []
    for filename in files:
        lines: Iterable[dict[str, Any]] = read_jsonl(folder / filename)
        if filename == EVENT_FILES["DECISION"]:
            lines = expand_decisions(lines, regimes_of(folder.parent), keep_refs=True)
        out.extend(
            line
            for line in lines
            if line.get("event") in wanted and (legs or line.get("kind") != "leg")
        )
    return out


def regimes_of(root: Path) -> dict[str, Mapping[str, Any]]:
    """Return the regimes the process journaled under `root`, by reference (compact DECISIONs)."""
    return load_regimes(read_jsonl(root / SYSTEM_FOLDER / REGIMES_FILE))


def strategy_folders(root: Path, shadow: bool = True) -> list[str]:
    """Return the journal folders of strategies under `root` (shadow ones too unless told not)."""
    if not root.is_dir():
        return []
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))
    return names if shadow else [n for n in names if not n.endswith(SHADOW_SUFFIX)]
