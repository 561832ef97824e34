"""Position and decision ids: ``<prefix>-<YYYYMMDD>-<nnn>`` and ``<prefix>-<YYYYMMDD>-d<nnn>``.

Numbers count per day and resume after those a journal already holds (positions from the trade
journal, decisions and the positions they named from the end of the decision journal), so an id
is never used twice, even after a SIGKILL (:mod:`seeker.engine.resume`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

_DAY_KEYS: dict[date, str] = {}
"""Day keys already formatted (a run meets a few hundred days at most)."""

_DAY_KEYS_KEPT = 1024
"""Most day keys kept before the cache starts afresh."""


def day_key(day: date) -> str:
    """Return a day's key in ids, ``YYYYMMDD`` (formatted once per day: ids ask it all the time)."""
    key = _DAY_KEYS.get(day)
    if key is None:
        if len(_DAY_KEYS) >= _DAY_KEYS_KEPT:
            _DAY_KEYS.clear()
        key = _DAY_KEYS[day] = day.strftime("%Y%m%d")
    return key


class IdSequence:
    """Number positions and decisions per day, resuming after the ids a journal already holds."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._positions: dict[str, int] = {}
        self._decisions: dict[str, int] = {}

    def resume(self, position_ids: Iterable[str]) -> None:
        """Continue after the highest number of each day among `position_ids`."""
        for pid in position_ids:
            day, _, num = pid.rpartition("-")
            key = day.rpartition("-")[2]
            if num.isdigit():
                self._positions[key] = max(self._positions.get(key, 0), int(num))

    def resume_decisions(self, decision_ids: Iterable[str]) -> None:
        """Continue after the highest decision number of each day among `decision_ids`."""
        for did in decision_ids:
            day, _, num = did.rpartition("-")
            key = day.rpartition("-")[2]
            if num.startswith("d") and num[1:].isdigit():
                self._decisions[key] = max(self._decisions.get(key, 0), int(num[1:]))

    def position_id(self, now: datetime, commit: bool) -> str:
        """Return the next position id of `now`'s day; take it only when `commit`."""
        key = day_key(now.date())
        n = self._positions.get(key, 0) + 1
        if commit:
            self._positions[key] = n
        return f"{self.prefix}-{key}-{n:03d}"

    def decision_id(self, now: datetime) -> str:
        """Return (and take) the next decision id of `now`'s day."""
        key = day_key(now.date())
        n = self._decisions.get(key, 0) + 1
        self._decisions[key] = n
        return f"{self.prefix}-{key}-d{n:03d}"
