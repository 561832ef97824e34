"""Which option expiries are listed: weekly Fridays and monthly third Fridays."""

from __future__ import annotations

from datetime import date, timedelta

FRIDAY = 4
"""``date.weekday()`` of a Friday."""


def third_friday(year: int, month: int) -> date:
    """Return the third Friday of a month (the standard monthly expiry)."""
    first = date(year, month, 1)
    return first + timedelta(days=(FRIDAY - first.weekday()) % 7 + 14)


def candidate_fridays(today: date, weekly_weeks: int, monthly_days: int) -> dict[date, bool]:
    """Return the Fridays that may be listed on `today`, mapped to True for monthlies.

    Weeklies: the Fridays of the next ``weekly_weeks`` + 1 weeks (one spare, for when this week's
    has already expired). Monthlies: every third Friday from this month up to and including the
    first one at least ``monthly_days`` days away.
    """
    out: dict[date, bool] = {}
    friday = today + timedelta(days=(FRIDAY - today.weekday()) % 7)
    for week in range(weekly_weeks + 1):
        out[friday + timedelta(weeks=week)] = False
    year, month = today.year, today.month
    horizon = today + timedelta(days=monthly_days)
    while True:
        third = third_friday(year, month)
        if third >= today:
            out[third] = True
            if third >= horizon:
                break
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
