"""Correlation clusters: returns aligned on the sessions every listing has."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from seeker.agents.clusters import aligned_returns
from seeker.core.models import DailyHistory

DAYS = tuple(date(2026, 1, 1) + timedelta(days=i) for i in range(8))


def history(lid: str, dates: tuple[date, ...], closes: list[float]) -> DailyHistory:
    arr = np.array(closes, dtype=float)
    return DailyHistory(lid, dates, arr, arr, arr, arr, arr)


def test_returns_align_on_common_sessions_whether_or_not_the_tails_match() -> None:
    a = history("A", DAYS, [10.0, 11.0, 12.0, 11.5, 12.5, 13.0, 12.0, 12.2])
    # B misses the last session: A's returns are then taken on B's dates, not A's last ones.
    b = history("B", DAYS[:-1], [20.0, 21.0, 19.0, 19.5, 20.5, 21.5, 22.0])
    ids, rets = aligned_returns({"A": a, "B": b}, 3)
    assert ids == ["A", "B"]
    days = DAYS[3:7]
    expect_a = np.diff(np.log([a.close[DAYS.index(d)] for d in days]))
    expect_b = np.diff(np.log([b.close[DAYS.index(d)] for d in days]))
    assert rets.tobytes() == np.column_stack([expect_a, expect_b]).tobytes()


def test_aligned_tails_give_the_last_closes() -> None:
    a = history("A", DAYS, [10.0, 11.0, 12.0, 11.5, 12.5, 13.0, 12.0, 12.2])
    b = history("B", DAYS, [20.0, 21.0, 19.0, 19.5, 20.5, 21.5, 22.0, 21.0])
    _, rets = aligned_returns({"A": a, "B": b}, 4)
    expect = [np.diff(np.log(np.array(h.close[-5:]))) for h in (a, b)]
    assert rets.tobytes() == np.column_stack(expect).tobytes()
