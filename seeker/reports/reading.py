"""Stream JSON Lines journals: forward line by line, backward from the end, merged in time order.

Nothing here holds a file in memory: a forward read keeps one line, a backward read one block
(64 kB) and the line it cuts — or one decoded member (1 MiB) of a compressed journal — and a
merge of many files one line per file. A journal line is
``{"event":"…","ts":"…",…}`` — the writer puts ``event`` and ``ts`` first — so the time of a
line, and a few top-level fields of a DECISION line, are read from its bytes without parsing
the whole line; anything unexpected falls back to the JSON parser. A torn or corrupt line (a
crash mid-write) is skipped with a warning, never fatal.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from seeker.core.journal_files import BLOCK, backward_lines, forward_lines
from seeker.core.tz import MARKET_TZ

log = logging.getLogger(__name__)

EARLIEST = datetime.min.replace(tzinfo=MARKET_TZ)
"""The time of a line without a readable ``ts`` (it sorts first)."""

_TS = b'"ts":"'
_HEAD = 160
"""Bytes of a line's head searched for ``ts`` (``event`` comes first, then ``ts``)."""

T = TypeVar("T")


def forward(path: Path, needle: bytes | None = None) -> Iterator[bytes]:
    """Yield the non-empty lines of a journal, oldest first (with `needle`: only lines holding it).

    Both parts are read, plain then compressed (``seeker.core.journal_files``).
    """
    return forward_lines(path, needle)


def backward(path: Path, block: int = BLOCK) -> Iterator[bytes]:
    """Yield the non-empty lines of a journal, newest first (a block or a member at a time)."""
    return backward_lines(path, block)


def aware(ts: datetime) -> datetime:
    """Return `ts` with a zone (New York time when it has none)."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=MARKET_TZ)


def raw_ts(raw: bytes) -> datetime | None:
    """Return the ``ts`` of a journal line read from its head, None when it is not there.

    Only a top-level ``ts`` is taken: one found after a nested object opened is not.
    """
    i = raw.find(_TS, 0, _HEAD)
    if i < 0 or raw.find(b"{", 1, i) >= 0:
        return None
    j = raw.find(b'"', i + len(_TS))
    try:
        return datetime.fromisoformat(raw[i + len(_TS) : j].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None


def parse(raw: bytes, path: Path | str = "") -> dict[str, Any] | None:
    """Return a line's JSON object, or None (with a warning) when it is torn or not an object."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        log.warning("%s: torn or corrupt line skipped: %.60r", path, raw)
        return None
    if not isinstance(obj, dict):
        log.warning("%s: not a JSON object, skipped: %.60r", path, raw)
        return None
    return obj


def line_ts(raw: bytes, obj: dict[str, Any] | None = None) -> datetime:
    """Return a line's time (from its head, else its parsed ``ts``), EARLIEST when unreadable."""
    ts = raw_ts(raw)
    if ts is None and obj is not None:
        try:
            ts = datetime.fromisoformat(str(obj.get("ts")))
        except ValueError:
            return EARLIEST
    return EARLIEST if ts is None else aware(ts)


def _top_value_start(raw: bytes, key: str) -> int | None:
    """Return where the value of top-level `key` starts in a line's bytes, None when the key is
    absent before any nested object opens."""
    pattern = b'"' + key.encode() + b'":'
    i = raw.find(pattern)
    if i < 0 or raw.find(b"{", 1, i) >= 0:
        return None
    return i + len(pattern)


def top_string(raw: bytes, key: str) -> tuple[bool, str | None]:
    """Return (found, value) of a top-level string-or-null field read from a line's bytes.

    ``found`` is False when the key is absent before any nested object opens, or its value is
    not a plain string or null — then parse the line instead.
    """
    start = _top_value_start(raw, key)
    if start is None:
        return False, None
    if raw.startswith(b"null", start):
        return True, None
    if raw[start : start + 1] != b'"':
        return False, None
    end = raw.find(b'"', start + 1)
    value = raw[start + 1 : end]
    if end < 0 or b"\\" in value:
        return False, None
    return True, value.decode("utf-8", "replace")


def top_number(raw: bytes, key: str) -> tuple[bool, float | None]:
    """Return (found, value) of a top-level number-or-null field read from a line's bytes.

    ``found`` is False when the key is absent before any nested object opens, or its value is
    not a plain number or null — then parse the line instead.
    """
    start = _top_value_start(raw, key)
    if start is None:
        return False, None
    if raw.startswith(b"null", start):
        return True, None
    end = start
    while end < len(raw) and raw[end] not in b",}":
        end += 1
    try:
        return True, float(raw[start:end])
    except ValueError:
        return False, None


class TimeReader:
    """Read the ``ts`` of many lines, parsing each distinct text once (a step's lines share it)."""

    def __init__(self) -> None:
        self._text = b""
        self._ts: datetime | None = None

    def __call__(self, raw: bytes) -> datetime | None:
        """Return the aware ``ts`` at the head of a line, None when absent, unreadable or naive."""
        i = raw.find(_TS, 0, _HEAD)
        if i < 0 or raw.find(b"{", 1, i) >= 0:
            return None
        start = i + len(_TS)
        return self.parse(raw[start : raw.find(b'"', start)])

    def parse(self, text: bytes) -> datetime | None:
        """Return an ISO 8601 text as an aware datetime, None when unreadable or naive."""
        if text != self._text:
            try:
                ts: datetime | None = datetime.fromisoformat(text.decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                ts = None
            self._text = text
            self._ts = ts if ts is not None and ts.tzinfo is not None else None
        return self._ts


_DECISION_HEAD = b'{"event":"DECISION","ts":"'
_OUTCOME = b',"outcome":"'
_BLOCKED_BY = b',"blocked_by":'


def decision_head(raw: bytes) -> tuple[bytes, bytes, bytes | None] | None:
    """Return (ts text, outcome, blocked_by or None) of a DECISION line read from its head.

    None when the line does not have the writer's plain shape (``event``, ``ts`` first, both
    fields top-level strings before any nested object, a complete line): parse it instead.
    """
    if not raw.startswith(_DECISION_HEAD) or not raw.endswith(b"}"):
        return None
    start = len(_DECISION_HEAD)
    end = raw.find(b'"', start)
    o = raw.find(_OUTCOME, end)
    if o < 0:
        return None
    o_start = o + len(_OUTCOME)
    o_end = raw.find(b'"', o_start)
    b = raw.find(_BLOCKED_BY, o_end)
    if b < 0 or raw.find(b"{", 1, b) >= 0:
        return None
    v = b + len(_BLOCKED_BY)
    blocked: bytes | None
    if raw.startswith(b"null", v):
        blocked = None
    elif raw[v : v + 1] == b'"':
        blocked = raw[v + 1 : raw.find(b'"', v + 1)]
        if b"\\" in blocked:
            return None
    else:
        return None
    outcome = raw[o_start:o_end]
    if b"\\" in outcome:
        return None
    return raw[start:end], outcome, blocked


def merge_by_time(
    streams: Iterable[Iterator[T]], when: Callable[[T], datetime], newest_first: bool = False
) -> Iterator[T]:
    """Merge streams each in time order into one; equal times keep the streams' order.

    With `newest_first` every stream runs newest first and so does the result; equal times
    then come from the *later* stream first, so the result is exactly the oldest-first merge
    read backward.
    """
    if not newest_first:
        return heapq.merge(*streams, key=when)
    return heapq.merge(*reversed(list(streams)), key=when, reverse=True)
