"""The market's time zone, in a module of its own so light readers need not load the calendars."""

from __future__ import annotations

from zoneinfo import ZoneInfo

MARKET_TZ = ZoneInfo("America/New_York")
"""New York time: sessions, expiries and journal dates without a zone are read in it."""
