"""Entry pipeline: Event Risk is asked once per listing, time and last expiry within a scan."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from seeker.agents.verdict import Verdict
from seeker.core.calendar import MARKET_TZ
from seeker.engine.pipeline import EntryPipeline

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=MARKET_TZ)


class _EventRisk:
    def __init__(self) -> None:
        self.asked: list[tuple[str, datetime, date]] = []

    def entry_verdict(self, listing: Any, now: datetime, last_expiry: date) -> Verdict:
        self.asked.append((listing.listing_id, now, last_expiry))
        return Verdict("event_risk", True, f"asked {len(self.asked)}")


def test_event_verdict_is_reused_only_for_the_same_listing_time_and_expiry() -> None:
    events = _EventRisk()
    ctx: Any = SimpleNamespace(services=SimpleNamespace(event_risk=events))
    pipeline = EntryPipeline(ctx, decisions=None, ids=None)  # type: ignore[arg-type]
    xlf, iwm = SimpleNamespace(listing_id="XLF"), SimpleNamespace(listing_id="IWM")
    first = pipeline.event_verdict(xlf, NOW, date(2026, 4, 17))  # type: ignore[arg-type]
    assert pipeline.event_verdict(xlf, NOW, date(2026, 4, 17)) is first  # type: ignore[arg-type]
    pipeline.event_verdict(xlf, NOW, date(2026, 5, 15))  # type: ignore[arg-type]
    pipeline.event_verdict(iwm, NOW, date(2026, 4, 17))  # type: ignore[arg-type]
    later = NOW.replace(minute=31)
    pipeline.event_verdict(xlf, later, date(2026, 4, 17))  # type: ignore[arg-type]
    assert events.asked == [
        ("XLF", NOW, date(2026, 4, 17)),
        ("XLF", NOW, date(2026, 5, 15)),
        ("IWM", NOW, date(2026, 4, 17)),
        ("XLF", later, date(2026, 4, 17)),
    ]
