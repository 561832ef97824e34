"""The entry scanner: which underlyings it hands to the pipeline, with cached bookkeeping that
must follow what changes (room after a scan, the groups after a config change, the day key)."""

from __future__ import annotations

from datetime import date, datetime, time
from types import SimpleNamespace
from typing import Any

from seeker.core.broker import ConnectionState
from seeker.core.calendar import MARKET_TZ
from seeker.core.models import Listing
from seeker.engine.entries import EntryScanner
from seeker.engine.ids import IdSequence, day_key

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=MARKET_TZ)


def _listing(lid: str, symbol: str) -> Listing:
    return Listing(lid, symbol, "ARCA", "USD", "financials", "etf", 0.015, 0.5, "XNYS")


LISTINGS = {
    "XLF": _listing("XLF", "XLF"),
    "IWM": _listing("IWM", "IWM"),
    "EEM": _listing("EEM", "EEM"),
    "RY": _listing("RY", "RY"),
    "RY.TO": _listing("RY.TO", "RY"),
}


class FakeBook:
    """Positions by entry day; `open` is what opens a position today."""

    def __init__(self) -> None:
        self.by_day: dict[str, list[Any]] = {}

    def open(self, now: datetime) -> None:
        self.by_day.setdefault(day_key(now.date()), []).append(SimpleNamespace(status="open"))

    def open_positions(self) -> list[Any]:
        return [p for ps in self.by_day.values() for p in ps]

    def opened_on(self, key: str) -> list[Any]:
        return list(self.by_day.get(key, ()))


class FakePipeline:
    """Record what is considered; open a position on each scan when told to."""

    def __init__(self, book: FakeBook, opens: bool) -> None:
        self.book = book
        self.opens = opens
        self.regime_refused: dict[str, date] = {}
        self.considered: list[str] = []

    def consider(self, venues: list[Listing], now: datetime) -> None:
        self.considered.append(venues[0].symbol)
        if self.opens:
            self.book.open(now)


def _config(underlyings: list[str], max_entries: int = 5) -> SimpleNamespace:
    return SimpleNamespace(
        underlyings=underlyings,
        scan_interval_minutes=60.0,
        entry_window_start=time(10, 0),
        entry_window_end=time(15, 30),
        max_open_positions=10,
        max_entries_per_day=max_entries,
    )


def _scanner(config: SimpleNamespace, opens: bool) -> tuple[EntryScanner, FakePipeline]:
    book = FakeBook()
    fx = SimpleNamespace(
        venues_of=lambda lid: ("RY", "RY.TO") if lid in ("RY", "RY.TO") else (lid,)
    )
    services = SimpleNamespace(
        broker=SimpleNamespace(connection_state=lambda: ConnectionState.CONNECTED),
        listings=LISTINGS,
        config=SimpleNamespace(fx=fx),
    )
    ctx = SimpleNamespace(
        config=config,
        services=services,
        settings=services.config,
        book=book,
        in_rth=lambda _lid: True,
        stop_requested=lambda: False,
    )
    pipeline = FakePipeline(book, opens)
    scanner = EntryScanner(ctx, pipeline, SimpleNamespace())  # type: ignore[arg-type]
    return scanner, pipeline


def test_every_due_underlying_is_considered_while_there_is_room() -> None:
    scanner, pipeline = _scanner(_config(["XLF", "IWM", "EEM"]), opens=False)
    scanner.entries(NOW)
    assert pipeline.considered == ["XLF", "IWM", "EEM"]


def test_room_is_measured_again_after_each_scan() -> None:
    scanner, pipeline = _scanner(_config(["XLF", "IWM", "EEM"], max_entries=2), opens=True)
    scanner.entries(NOW)
    assert pipeline.considered == ["XLF", "IWM"]  # the second entry fills the day


def test_the_groups_follow_a_new_config() -> None:
    scanner, _ = _scanner(_config(["XLF", "RY", "RY.TO"]), opens=False)
    first = scanner.venue_groups()
    assert [[v.listing_id for v in g] for g in first] == [["XLF"], ["RY", "RY.TO"]]
    assert scanner.venue_groups() is first  # the same config: the same groups
    scanner.ctx.config = _config(["IWM", "RY.TO"])
    assert [[v.listing_id for v in g] for g in scanner.venue_groups()] == [["IWM"], ["RY.TO"]]


def test_day_keys_and_ids_follow_the_day() -> None:
    assert day_key(date(2026, 3, 2)) == "20260302"
    assert day_key(date(2026, 3, 3)) == "20260303"
    ids = IdSequence("ic")
    assert ids.decision_id(NOW) == "ic-20260302-d001"
    assert ids.decision_id(NOW.replace(day=3)) == "ic-20260303-d001"
    assert ids.position_id(NOW, commit=True) == "ic-20260302-001"
