"""Tests of the embedded simulated market: real calendars, the shipped sim config, no mocks."""

from __future__ import annotations

import math
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from seeker.core.calendar import MARKET_TZ, MarketCalendars, calendar_for_exchange
from seeker.core.models import (
    PIP,
    Chain,
    DataUnavailable,
    Listing,
    OptionContract,
    OptionQuote,
)
from seeker.core.sim.market import SimMarket, sim_calendar_span
from seeker.core.sim.settings import REGIMES, SimSettings

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "seeker.toml"


def _shipped() -> dict[str, Any]:
    with SHIPPED.open("rb") as fh:
        return tomllib.load(fh)


_DATA = _shipped()
RATES: dict[str, float] = dict(_DATA["rates"])
# listing id: (exchange, currency, sector, kind, dividend yield, strike increment), from the config
UNIVERSE: dict[str, tuple[str, str, str, str, float, float]] = {
    lid: (
        u["exchange"],
        u["currency"],
        u["sector"],
        u["kind"],
        u["dividend_yield"],
        u["strike_increment"],
    )
    for lid, u in _DATA["universe"].items()
}
LIQUID = ("IWM", "XLF", "SOFI")
ILLIQUID = ("XIU.TO",)
MAX_LEG_SPREAD, MIN_OI, MIN_CHAIN_VOLUME = 0.05, 500, 1000


def make_listings() -> dict[str, Listing]:
    """Return the shipped universe as Listing objects."""
    return {
        lid: Listing(
            lid,
            _DATA["universe"][lid]["symbol"],
            ex,
            ccy,
            sector,
            kind,
            dy,
            inc,
            calendar_for_exchange(ex),
        )  # type: ignore[arg-type]
        for lid, (ex, ccy, sector, kind, dy, inc) in UNIVERSE.items()
    }


def sim_table() -> dict[str, Any]:
    """Return the [sim] table of the shipped config as plain data."""
    return _shipped()["sim"]


def make_settings(**override: Any) -> SimSettings:
    """Return the shipped sim settings with top-level keys overridden."""
    data = sim_table()
    data.update(override)
    return SimSettings.model_validate(data)


@pytest.fixture(scope="module")
def calendars() -> MarketCalendars:
    return MarketCalendars(["XNYS", "XTSE"], *sim_calendar_span(make_settings(), date(2027, 2, 1)))


@pytest.fixture(scope="module")
def make_market(calendars: MarketCalendars) -> Callable[..., SimMarket]:
    def build(**override: Any) -> SimMarket:
        return SimMarket(make_settings(**override), make_listings(), calendars, RATES)

    return build


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a New York time on `day`."""
    return datetime.combine(day, dtime(hour, minute), MARKET_TZ)


@dataclass
class Setup:
    """The legs a credit-spread scanner would pick: a ~0.12-delta put and the one 0.50 lower."""

    short: OptionQuote
    long: OptionQuote
    chain_volume: int

    @property
    def max_spread(self) -> float:
        return max(self.short.spread, self.long.spread)

    @property
    def min_oi(self) -> int:
        return min(self.short.open_interest or 0, self.long.open_interest or 0)

    @property
    def liquid(self) -> bool:
        return (
            self.max_spread <= MAX_LEG_SPREAD + 1e-9
            and self.min_oi >= MIN_OI
            and self.chain_volume >= MIN_CHAIN_VOLUME
        )


def put_spread(m: SimMarket, lid: str) -> Setup:
    """Return the ~45-DTE ~0.12-delta short put and its 0.50 (or one increment) lower wing."""
    today = m.now.date()
    expiry = min(m.expiries(lid), key=lambda e: abs((e - today).days - 45))
    spot = m.spot(lid)
    chain = m.chain(lid, [expiry], (spot * 0.4, spot))
    puts = chain.side(expiry, "P")
    short = min(puts, key=lambda q: abs(abs(q.delta) - 0.12))
    width = max(0.5, m.listings[lid].strike_increment)
    long = chain.quote(expiry, short.contract.strike - width, "P")
    assert long is not None
    return Setup(short, long, chain.chain_volume or 0)


@dataclass
class YearSample:
    """What the market showed at midday of every session of a year."""

    market: SimMarket
    regimes: list[str] = field(default_factory=list)
    iwm_iv_ratio: list[float] = field(default_factory=list)
    iwm_backwardation: list[bool] = field(default_factory=list)
    spreads: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    liquid: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)

    def by_regime(self, lid: str, regime: str) -> np.ndarray:
        """Return the leg spreads of `lid` seen in `regime`."""
        return np.array([v for r, v in self.spreads[lid] if r == regime])


@pytest.fixture(scope="module")
def year(make_market: Callable[..., SimMarket], calendars: MarketCalendars) -> YearSample:
    """Advance the shipped market through a year, looking at it at midday every session."""
    m = make_market()
    sample = YearSample(m)
    base_iv = make_settings().listings["IWM"].base_iv
    start = m.now.date()
    for day in calendars.union_sessions(start, start + timedelta(days=365)):
        m.advance_to(at(day, 12))
        sample.regimes.append(m.regime())
        sample.iwm_iv_ratio.append(m.atm_iv("IWM", 30) / base_iv)
        sample.iwm_backwardation.append(m.atm_iv("IWM", 7) > m.atm_iv("IWM", 120))
        for lid in (*LIQUID, *ILLIQUID):
            if m.is_open(lid):
                s = put_spread(m, lid)
                sample.spreads.setdefault(lid, []).append((m.regime(), s.max_spread))
                sample.liquid.setdefault(lid, []).append((m.regime(), s.liquid))
    return sample


# -- settings ---------------------------------------------------------------------------------
def test_shipped_config_validates() -> None:
    s = make_settings()
    assert set(s.listings) == set(UNIVERSE)
    assert s.seed == 20260105 and s.start == date(2026, 1, 5) and s.history_sessions == 252
    assert s.listings["TD.TO"].follows == "TD" and s.listings["ENB.TO"].follows == "ENB"
    assert s.listings["IWM"].follows is None
    assert [r.mean_duration_sessions > 0 for r in s.regimes.ordered()] == [True] * 4


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (("usd_cad_vol",), -0.1, "greater than or equal"),
        (("history_sessions",), 40, "greater than or equal"),
        (("monthly_expiry_days",), 90, "greater than or equal"),
        (("regimes", "stress", "gap_probability"), 1.5, "less than or equal"),
        (("listings", "IWM", "base_iv"), 0.0, "greater than"),
        (("listings", "IWM", "spot"), "230", "valid number"),
        (("listings", "IWM", "colour"), "red", "Extra inputs"),
        (("listings", "TD.TO", "beta"), 0.5, "follower moves with its twin"),
        (("listings", "TD.TO", "spot"), 80.0, "far from TD spot"),
        (("listings", "TD.TO", "follows"), "XYZ", "has no sim settings"),
    ],
)
def test_settings_reject_bad_values(path: tuple[str, ...], value: Any, needle: str) -> None:
    data = sim_table()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError, match=needle):
        SimSettings.model_validate(data)


@pytest.mark.parametrize(
    "path",
    [
        ("seed",),
        ("iv", "min_iv"),
        ("regimes", "calm"),
        ("regimes", "stress", "skew"),
        ("listings", "XLF", "open_interest"),
    ],
)
def test_settings_require_every_key(path: tuple[str, ...]) -> None:
    data = sim_table()
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    with pytest.raises(ValidationError, match="Field required"):
        SimSettings.model_validate(data)


def test_universe_and_sim_listings_must_match(calendars: MarketCalendars) -> None:
    listings = make_listings()
    del listings["GDX"]
    with pytest.raises(ValueError, match="GDX"):
        SimMarket(make_settings(), listings, calendars, RATES)
    listings = make_listings()
    listings["SPY"] = Listing("SPY", "SPY", "ARCA", "USD", "broad_market", "etf", 0.01, 1.0, "XNYS")
    with pytest.raises(ValueError, match="SPY"):
        SimMarket(make_settings(), listings, calendars, RATES)
    with pytest.raises(ValueError, match="CAD"):
        SimMarket(make_settings(), make_listings(), calendars, {"USD": 0.04})
    short = MarketCalendars(["XNYS", "XTSE"], date(2025, 6, 1), date(2026, 12, 31))
    with pytest.raises(ValueError, match="must cover 252 sessions"):
        SimMarket(make_settings(), make_listings(), short, RATES)


# -- day one ------------------------------------------------------------------------------------
def test_day_one_opens_at_configured_prices_with_a_year_of_history(
    make_market: Callable[..., SimMarket],
) -> None:
    m = make_market()
    s = make_settings()
    assert m.start_time == at(date(2026, 1, 5), 9, 30) and m.now == m.start_time
    assert m.current_session() == date(2026, 1, 5)
    assert m.spot("IWM") == pytest.approx(230.0)
    assert m.spot("TD.TO") == pytest.approx(s.listings["TD"].spot * s.usd_cad, rel=0.005)
    assert m.fx_quote().mid == pytest.approx(1.37, abs=1e-4)
    for lid in UNIVERSE:
        h = m.history(lid, 252)
        assert len(h) == 252 and h.dates[-1] < date(2026, 1, 5)
        assert np.all(h.low <= np.minimum(h.open, h.close)) and np.all(h.high >= h.close)
        assert np.all((h.iv > 0.05) & (h.iv < 3.0))
    with pytest.raises(DataUnavailable):
        m.history("IWM", 400)
    # a start that is not a session opens on the next one
    assert make_market(start=date(2026, 1, 3)).start_time == m.start_time


# -- determinism -------------------------------------------------------------------------------
def snapshot(m: SimMarket) -> tuple[Any, ...]:
    expiry = m.expiries("XLF")[5]
    chain = m.chain("XLF", [expiry], (45.0, 55.0))
    quotes = tuple(
        (q.contract.key, q.bid, q.ask, q.iv, q.delta, q.open_interest, q.volume)
        for q in chain.quotes
    )
    return (
        tuple(round(m.spot(lid), 10) for lid in UNIVERSE),
        m.regime(),
        m.fx_quote().bid,
        chain.chain_volume,
        quotes,
        tuple(m.history("SOFI", 5).close),
    )


def test_same_seed_same_market_whatever_the_queries(
    make_market: Callable[..., SimMarket],
) -> None:
    busy, lazy = make_market(), make_market()
    checkpoints = [
        at(date(2026, 1, 5), 11, 10),
        at(date(2026, 1, 6), 15, 59),
        at(date(2026, 1, 9), 10),
    ]
    t = busy.now
    for check in checkpoints:
        while t < check:  # the busy market moves every 13 minutes and looks at everything
            t = min(t + timedelta(minutes=13), check)
            busy.advance_to(t)
            busy.chain("IWM", busy.expiries("IWM")[:2], None)
            busy.option_quotes([OptionContract("XLF", busy.expiries("XLF")[0], 50.0, "C")])
            busy.history("XLF", 30)
        lazy.advance_to(check)  # the lazy one jumps straight there
        assert snapshot(busy) == snapshot(lazy)
    other = make_market(seed=7)
    other.advance_to(checkpoints[0])
    busy_prices = snapshot(busy)[0]
    assert snapshot(other)[0] != busy_prices


def test_chain_sides_match_a_regrouping_of_its_quotes(
    make_market: Callable[..., SimMarket],
) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 6), 11, 30))
    expiries = m.expiries("IWM")
    spot = m.spot("IWM")
    windows = [(spot * 0.9, spot * 1.05), None, (spot * 0.97, spot * 1.2), (1.0, 2.0)]
    for window in windows:  # overlapping requests at one grid point reuse stored rows
        chain = m.chain("IWM", [expiries[2], expiries[0], expiries[2]], window)
        rebuilt = Chain(chain.listing_id, chain.underlying, chain.quotes, None, chain.ts)
        assert chain.expiries == rebuilt.expiries
        for expiry in expiries[:3]:
            for right in ("C", "P"):
                assert chain.side(expiry, right) == rebuilt.side(expiry, right)
        assert list(chain._grouped()) == list(rebuilt._grouped())


def test_quote_values_do_not_depend_on_how_requests_group(
    make_market: Callable[..., SimMarket],
) -> None:
    """One expiry alone (the scalar pass), several in one pass, or several listings: same floats."""
    alone, grouped = make_market(), make_market()
    t = at(date(2026, 1, 7), 13, 30)
    alone.advance_to(t)
    grouped.advance_to(t)
    days = alone.expiries("IWM")[:3]
    wanted = grouped.chain("IWM", days, None)
    for day in days:
        one = alone.chain("IWM", [day], None)
        assert [q[:11] for q in one.quotes] == [
            q[:11] for q in wanted.quotes if q.contract.expiry == day
        ]
    asked = make_market()  # no chain first: every value computed by the quotes' own pass
    asked.advance_to(t)
    mine = asked.option_quotes([q.contract for q in wanted.quotes])
    assert [mine[q.contract][1:] for q in wanted.quotes] == [q[1:] for q in wanted.quotes]
    each, together = make_market(), make_market()
    each.advance_to(t)
    together.advance_to(t)
    contracts = [
        OptionContract(lid, each.expiries(lid)[1], strike, right)
        for lid, strike in (("XLF", 52.0), ("IWM", 230.0), ("SOFI", 11.0))
        for right in ("C", "P")
    ]
    both = together.option_quotes(contracts)
    for c in contracts:
        assert each.option_quotes([c])[c][1:11] == both[c][1:11]


def test_time_only_moves_forward(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 6), 12))
    before = m.spot("IWM")
    m.advance_to(at(date(2026, 1, 5), 12))  # earlier: a no-op
    assert m.now == at(date(2026, 1, 6), 12) and m.spot("IWM") == before
    with pytest.raises(ValueError, match="aware"):
        m.advance_to(datetime(2026, 1, 7, 12))


def test_prices_move_on_the_grid_only(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 6), 10, 1))
    first = m.spot("IWM")
    m.advance_to(at(date(2026, 1, 6), 10, 29))  # same 30-minute step
    assert m.spot("IWM") == first
    m.advance_to(at(date(2026, 1, 6), 10, 30))  # next grid point
    assert m.spot("IWM") != first


# -- history ----------------------------------------------------------------------------------
def test_history_has_no_look_ahead(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 7), 12))
    during = m.history("BAC", 60)
    assert during.dates[-1] == date(2026, 1, 6)
    with pytest.raises(DataUnavailable):
        m.close_price("BAC", date(2026, 1, 7))
    m.advance_to(at(date(2026, 1, 7), 16, 5))
    after = m.history("BAC", 60)
    assert after.dates[-1] == date(2026, 1, 7)
    assert after.dates[:-1] == during.dates[1:]
    np.testing.assert_array_equal(after.close[:-1], during.close[1:])
    np.testing.assert_array_equal(after.iv[:-1], during.iv[1:])
    assert m.close_price("BAC", date(2026, 1, 7)) == after.close[-1]
    m.advance_to(at(date(2026, 1, 8), 9, 30))
    assert m.spot("BAC") != after.close[-1]  # the overnight move shows at the open


# -- factor model and regimes -------------------------------------------------------------------
def test_same_sector_names_correlate_more(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    us = [lid for lid in UNIVERSE if not lid.endswith(".TO")]
    returns = np.array([np.diff(np.log(m.history(lid, 61).close)) for lid in us])
    corr = np.corrcoef(returns)
    sector = [UNIVERSE[lid][2] for lid in us]
    same = [corr[a, b] for a in range(len(us)) for b in range(a) if sector[a] == sector[b]]
    cross = [corr[a, b] for a in range(len(us)) for b in range(a) if sector[a] != sector[b]]
    assert np.mean(same) > np.mean(cross) + 0.2
    ix = {lid: k for k, lid in enumerate(us)}
    assert corr[ix["BAC"], ix["XLF"]] > corr[ix["BAC"], ix["TLT"]]
    assert corr[ix["GDX"], ix["SLV"]] > corr[ix["GDX"], ix["PFE"]]


def test_iv_rank_spans_its_range(year: YearSample) -> None:
    m = year.market
    spans = []
    for lid in UNIVERSE:
        iv = m.history(lid, 480).iv
        ranks = [
            100 * (iv[j] - iv[j - 251 : j + 1].min()) / np.ptp(iv[j - 251 : j + 1])
            for j in range(251, len(iv))
        ]
        spans.append((min(ranks), max(ranks)))
    assert sum(lo < 10 and hi > 90 for lo, hi in spans) >= len(UNIVERSE) - 2


def test_every_regime_occurs_and_stress_is_stressful(year: YearSample) -> None:
    m = year.market
    history = m.regime_history()
    assert len(history) > 480
    assert set(r for _, r in history) == set(REGIMES)
    regimes = np.array(year.regimes)
    assert {"calm", "stress"} <= set(regimes)
    stress, calm = regimes == "stress", regimes == "calm"
    ratio = np.array(year.iwm_iv_ratio)
    assert ratio[stress].mean() > 1.4 * ratio[calm].mean()
    backwardation = np.array(year.iwm_backwardation)
    assert backwardation[stress].mean() > 0.5 > backwardation[calm].mean()
    assert year.by_regime("IWM", "stress").mean() > 1.5 * year.by_regime("IWM", "calm").mean()
    # overnight gaps: open vs previous close of IWM, by regime of the session
    bars = m.history("IWM", 480)
    by_day = dict(history)
    gaps = np.abs(bars.open[1:] / bars.close[:-1] - 1.0)
    labels = np.array([by_day[d] for d in bars.dates[1:]])
    assert gaps[labels == "stress"].mean() > 2.0 * gaps[labels == "calm"].mean()
    assert (gaps[labels == "stress"] > 0.02).sum() >= 3


def test_regimes_differ_across_listings(year: YearSample) -> None:
    """Some listings trend while others range: 20/50 SMA order disagrees across the universe."""
    m = year.market
    closes = np.array([m.history(lid, 300).close for lid in UNIVERSE if not lid.endswith(".TO")])
    sma20 = np.array([np.convolve(c, np.ones(20) / 20, "valid")[-250:] for c in closes])
    sma50 = np.array([np.convolve(c, np.ones(50) / 50, "valid")[-250:] for c in closes])
    up_share = (sma20 > sma50).mean(axis=0)
    assert ((up_share > 0.2) & (up_share < 0.8)).mean() > 0.5
    per_listing = (sma20 > sma50).mean(axis=1)
    assert per_listing.max() - per_listing.min() > 0.2


# -- expiries and strikes ---------------------------------------------------------------------
def test_expiries_weekly_monthly_and_holidays(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 3, 9), 10))
    iwm = m.expiries("IWM")
    assert iwm == sorted(iwm)
    assert date(2026, 4, 2) in iwm and date(2026, 4, 3) not in iwm  # Good Friday → Thursday
    assert date(2026, 6, 18) in iwm  # Juneteenth: the June monthly moves to Thursday...
    xiu = m.expiries("XIU.TO")
    assert date(2026, 6, 19) in xiu and date(2026, 4, 2) in xiu  # ...but not on the TSX
    fridays = [date(2026, 3, 13) + timedelta(weeks=k) for k in range(8)]
    assert all((f in iwm) or (f - timedelta(days=1) in iwm) for f in fridays)
    assert (iwm[-1] - date(2026, 3, 9)).days >= 120
    assert date(2026, 7, 17) in iwm  # third Friday of July, a monthly
    m.advance_to(at(date(2026, 4, 2), 15, 59))
    assert m.expiries("IWM")[0] == date(2026, 4, 2)
    m.advance_to(at(date(2026, 4, 2), 16, 1))
    assert date(2026, 4, 2) not in m.expiries("IWM")
    with pytest.raises(DataUnavailable, match="not listed"):
        m.chain("IWM", [date(2026, 4, 2)])


def test_listed_expiries_follow_closes_and_new_york_midnight(
    make_market: Callable[..., SimMarket],
) -> None:
    """A market walking through closes, midnights and a DST change lists what a fresh one does."""
    walker = make_market()
    times = [
        at(date(2026, 3, 5), 15, 59),
        at(date(2026, 3, 5), 16, 1),  # Thursday's close: nothing expires
        at(date(2026, 3, 6), 15, 59),
        at(date(2026, 3, 6), 16, 0),  # Friday's close: that weekly goes
        at(date(2026, 3, 6), 23, 59),
        at(date(2026, 3, 7), 0, 0),  # midnight: a new date, new candidates
        at(date(2026, 3, 8), 3, 0),  # after the spring-forward hour
        at(date(2026, 3, 9), 9, 30),
        at(date(2026, 4, 2), 15, 59),
        at(date(2026, 4, 2), 16, 1),  # Good Friday's expiry, moved to Thursday, goes
    ]
    for t in times:
        walker.advance_to(t)
        fresh = make_market()
        fresh.advance_to(t)
        for lid in ("IWM", "XIU.TO"):
            assert walker.expiries(lid) == fresh.expiries(lid), (t, lid)


def test_strikes_on_increments_cover_the_distribution(
    make_market: Callable[..., SimMarket],
) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 8), 11))
    for lid in UNIVERSE:
        inc = m.listings[lid].strike_increment
        spot = m.spot(lid)
        for expiry in m.expiries(lid)[::3]:
            k = m.strikes(lid, expiry)
            units = k / inc
            np.testing.assert_allclose(units, np.round(units), atol=1e-9)
            days = (at(expiry, 16).timestamp() - m.now.timestamp()) / 86400.0
            sd = m.atm_iv(lid, days) * math.sqrt(days / 365.0)
            below, above = (k < spot).sum(), (k > spot).sum()
            low = max(min(spot * math.exp(-4 * sd), 0.75 * spot), inc)
            assert k[0] <= low + 1e-9 or below >= 300
            assert k[-1] >= max(spot * math.exp(4 * sd), 1.25 * spot) - 1e-9 or above >= 300
            assert 10 < len(k) <= 602


# -- quotes -----------------------------------------------------------------------------------
def test_option_quotes_are_sane(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 8), 13, 45))
    for lid in ("IWM", "XLF", "SOFI", "XIU.TO"):
        listing = m.listings[lid]
        expiries = m.expiries(lid)[1:8:3]
        chain = m.chain(lid, expiries)
        spot = m.spot(lid)
        assert chain.ts == m.now and chain.underlying.bid < spot < chain.underlying.ask
        for q in chain.quotes:
            assert 0.0 <= q.bid < q.ask and q.problem(m.now, 1.0) is None
            assert abs(q.bid * 100 - round(q.bid * 100)) < 1e-6
            assert abs(q.ask * 100 - round(q.ask * 100)) < 1e-6
            assert q.ts == m.now and q.underlying_price == spot
            assert q.gamma >= 0 and q.vega >= 0 and 0.05 <= q.iv <= 3.0
            assert (0 <= q.delta <= 1) if q.contract.right == "C" else (-1 <= q.delta <= 0)
        for e in expiries:
            calls, puts = chain.side(e, "C"), chain.side(e, "P")
            t = (at(e, 16).timestamp() - m.now.timestamp()) / (365.0 * 86400.0)
            for c, p in zip(calls, puts, strict=True):
                k = c.contract.strike
                parity = spot * math.exp(-listing.dividend_yield * t) - k * math.exp(
                    -RATES[listing.currency] * t
                )
                assert abs(c.mid - p.mid - parity) <= (c.spread + p.spread) / 2 + 0.02
            call_mids = np.array([q.mid for q in calls])
            put_mids = np.array([q.mid for q in puts])
            assert np.all(np.diff(call_mids) <= 1e-9) and np.all(np.diff(put_mids) >= -1e-9)
            call_deltas = np.array([q.delta for q in calls])
            assert np.all(np.diff(call_deltas) <= 1e-9)
            far = calls[-1]
            assert far.bid == 0.0 and far.ask in (0.01, 0.02)


def test_put_skew_and_term_structure(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    expiry = min(m.expiries("IWM"), key=lambda e: abs((e - m.now.date()).days - 45))
    spot = m.spot("IWM")
    chain = m.chain("IWM", [expiry], (spot * 0.8, spot * 1.2))
    puts = chain.side(expiry, "P")
    low, atm = puts[0], min(puts, key=lambda q: abs(q.contract.strike - spot))
    assert low.iv > atm.iv * 1.1
    ivs = [m.atm_iv("IWM", d) for d in (7, 30, 90, 150)]
    assert ivs[0] != ivs[-1] and all(0.05 < v < 3 for v in ivs)


def test_option_quotes_match_the_chain(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 9), 14))
    expiry = m.expiries("XLF")[3]
    chain = m.chain("XLF", [expiry], (48.0, 54.0))
    wanted = [q.contract for q in chain.quotes[:6]]
    far = OptionContract("XLF", expiry, 10.0, "P")  # listed long ago: still quoted
    odd = OptionContract("XLF", expiry, 50.25, "P")  # not on the increment
    gone = OptionContract("XLF", date(2026, 1, 9), 50.0, "P")  # expires at today's close
    unknown = OptionContract("SPY", expiry, 500.0, "C")
    got = m.option_quotes([*wanted, far, odd, gone, unknown])
    for c in wanted:
        q, ref = got[c], chain.quote(c.expiry, c.strike, c.right)
        assert ref is not None and (q.bid, q.ask, q.delta, q.open_interest) == (
            ref.bid,
            ref.ask,
            ref.delta,
            ref.open_interest,
        )
    assert far in got and got[far].bid == 0.0
    assert gone in got and odd not in got and unknown not in got
    m.advance_to(at(date(2026, 1, 9), 16, 0))
    assert gone not in m.option_quotes([gone])


def test_option_quotes_reuse_the_chain_quotes_of_the_same_contracts_only(
    make_market: Callable[..., SimMarket],
) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 1, 9), 14))
    expiry = m.expiries("XLF")[3]
    chain = m.chain("XLF", [expiry], (48.0, 54.0))
    ref = chain.quote(expiry, 50.0, "C")
    assert ref is not None
    whole = OptionContract("XLF", expiry, 50, "C")  # an int strike: equal, not the same
    assert m.option_quotes([ref.contract])[ref.contract] is ref
    mine = m.option_quotes([whole])[whole]
    assert type(mine.contract.strike) is int and mine[1:] == ref[1:]
    m.advance_to(at(date(2026, 1, 9), 14, 1))  # the same grid point, a later time
    later = m.option_quotes([ref.contract])[ref.contract]
    assert later.ts == m.now and later[1:11] == ref[1:11]


def test_liquid_names_pass_and_illiquid_fail_the_thresholds(year: YearSample) -> None:
    for lid in LIQUID:
        assert np.mean([ok for _, ok in year.liquid[lid]]) > 0.6, lid
        assert np.mean(year.by_regime(lid, "calm") <= MAX_LEG_SPREAD + 1e-9) > 0.9, lid
        assert np.mean(year.by_regime(lid, "stress") > MAX_LEG_SPREAD + 1e-9) > 0.5, lid
    for lid in ILLIQUID:
        assert np.mean([ok for _, ok in year.liquid[lid]]) < 0.05, lid


def test_liquidity_on_a_calm_midday(
    make_market: Callable[..., SimMarket], calendars: MarketCalendars
) -> None:
    m = make_market()
    for day in calendars.sessions("XNYS", date(2026, 1, 6), date(2026, 3, 31)):
        m.advance_to(at(day, 13))
        if m.regime() == "calm" and m.is_open("XIU.TO"):
            break
    assert m.regime() == "calm"
    for lid in LIQUID:
        s = put_spread(m, lid)
        assert s.max_spread <= MAX_LEG_SPREAD + 1e-9 and s.min_oi >= MIN_OI, lid
        assert s.chain_volume >= MIN_CHAIN_VOLUME and s.short.volume is not None
    s = put_spread(m, "XIU.TO")
    assert s.max_spread > MAX_LEG_SPREAD and s.min_oi < MIN_OI
    assert s.chain_volume < MIN_CHAIN_VOLUME


def test_chain_volume_is_the_last_full_session_volume(
    make_market: Callable[..., SimMarket],
) -> None:
    m = make_market()
    expiry = m.expiries("SOFI")[2]
    volumes = []
    for hour in (9, 10, 12, 14):
        m.advance_to(at(date(2026, 1, 6), hour, 30 if hour == 9 else 0))
        volumes.append(m.chain("SOFI", [expiry], (20.0, 30.0)).chain_volume)
    assert len(set(volumes)) == 1 and volumes[0] is not None and volumes[0] > 10_000
    m.advance_to(at(date(2026, 1, 6), 16, 30))
    after_close = m.chain("SOFI", [expiry], (20.0, 30.0)).chain_volume
    assert after_close is not None and after_close != volumes[0]  # today's full day counts now


# -- calendars, cross-listings and FX ----------------------------------------------------------
def test_tsx_is_closed_on_canada_day_while_us_trades(
    make_market: Callable[..., SimMarket],
) -> None:
    m = make_market()
    m.advance_to(at(date(2026, 7, 1), 10))
    assert m.current_session() == date(2026, 7, 1)
    assert m.is_open("IWM") and m.is_open("TD") and not m.is_open("XIU.TO")
    morning = {lid: m.spot(lid) for lid in ("IWM", "TD", "XIU.TO", "TD.TO")}
    expiry = m.expiries("XIU.TO")[4]
    before = m.chain("XIU.TO", [expiry]).chain_volume
    assert before is not None and before > 0  # June 30's volume: Canada Day itself adds none
    m.advance_to(at(date(2026, 7, 1), 15))
    assert m.spot("IWM") != morning["IWM"] and m.spot("TD") != morning["TD"]
    assert m.spot("XIU.TO") == morning["XIU.TO"] and m.spot("TD.TO") == morning["TD.TO"]
    m.advance_to(at(date(2026, 7, 1), 16, 30))
    assert m.history("IWM", 1).dates[-1] == date(2026, 7, 1)
    assert m.history("XIU.TO", 1).dates[-1] == date(2026, 6, 30)
    m.advance_to(at(date(2026, 7, 3), 12))  # US Independence Day (observed): only the TSX trades
    assert m.is_open("XIU.TO") and not m.is_open("IWM")


def test_cross_listing_follows_twin_times_usd_cad(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    for day in (date(2026, 1, 6), date(2026, 2, 10), date(2026, 3, 17)):
        for hour in (10, 13, 15):
            m.advance_to(at(day, hour))
            fx = m.fx_quote().mid
            assert m.spot("TD.TO") == pytest.approx(m.spot("TD") * fx, rel=0.003)
            assert m.spot("ENB.TO") == pytest.approx(m.spot("ENB") * fx, rel=0.003)
    td, td_to = m.history("TD", 200), m.history("TD.TO", 200)
    both = sorted(set(td.dates) & set(td_to.dates))[-61:]
    us = np.array([td.close[td.dates.index(d)] for d in both])
    ca = np.array([td_to.close[td_to.dates.index(d)] for d in both])
    assert np.corrcoef(np.diff(np.log(us)), np.diff(np.log(ca)))[0, 1] > 0.9


def test_usd_cad_quote(make_market: Callable[..., SimMarket]) -> None:
    m = make_market()
    first = m.fx_quote()
    assert first.pair == "USD.CAD" and first.ts == m.now
    assert first.spread_pips == pytest.approx(0.5, abs=1e-6)
    assert first.spread_pips < 1.0  # so a 1-pip slippage limit is meaningful
    m.advance_to(at(date(2026, 2, 2), 11))
    later = m.fx_quote()
    assert later.mid != first.mid and abs(later.mid / first.mid - 1) < 0.05
    assert (later.ask - later.bid) / PIP == pytest.approx(0.5, abs=1e-6)
    m.advance_to(at(date(2026, 2, 7), 12))  # Saturday: FX is 24/5
    with pytest.raises(DataUnavailable, match="weekend"):
        m.fx_quote()
    assert m.fx_rate() == pytest.approx(later.mid, rel=0.05)


def test_print_costs(make_market: Callable[..., SimMarket], calendars: MarketCalendars) -> None:
    """Print (never assert) the cost of an advance step and of a chain."""
    t0 = time.perf_counter()
    m = make_market()
    build = time.perf_counter() - t0
    days = calendars.union_sessions(date(2026, 1, 6), date(2026, 3, 31))
    steps = 0
    t0 = time.perf_counter()
    for day in days:
        open_ = at(day, 9, 30)
        for k in range(14):
            m.advance_to(open_ + timedelta(minutes=30 * k))
            steps += 1
    per_step = (time.perf_counter() - t0) / steps
    expiries = m.expiries("XLF")[4:7]
    spot = m.spot("XLF")
    m.chain("XLF", expiries, (spot * 0.8, spot * 1.2))
    runs = 50
    t0 = time.perf_counter()
    for _ in range(runs):
        m.advance_to(m.now + timedelta(seconds=1))
        chain = m.chain("XLF", expiries, (spot * 0.8, spot * 1.2))
    per_chain = (time.perf_counter() - t0) / runs
    print(
        f"\nSimMarket: build {build * 1e3:.0f} ms, {per_step * 1e6:.1f} µs per grid step, "
        f"{per_chain * 1e3:.2f} ms per chain of {len(chain.quotes)} quotes; "
        f"regimes so far {Counter(r for _, r in m.regime_history())}"
    )
