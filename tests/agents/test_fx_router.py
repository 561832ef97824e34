"""FX Router on the real SimBroker: EV arithmetic, venue choice, conversions, refusals, exposure."""

from __future__ import annotations

import math
import threading
import tomllib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from seeker.agents.fx_router import (
    PAIR,
    ConversionPlan,
    FxConfig,
    FxRouter,
    VenueCandidate,
    fx_quote_problem,
)
from seeker.config.loading import validate_config
from seeker.core.calendar import MARKET_TZ
from seeker.core.models import PIP, DataUnavailable, FxQuote
from seeker.core.sim.broker import SimBroker
from seeker.engine.wiring import build_sim_services
from tests.support import ROOT, shipped, strategy_config_models

SNIPPET = ROOT / "config" / "seeker.toml"
OPEN = datetime(2026, 1, 5, 10, 30, tzinfo=MARKET_TZ)  # a Monday, regular hours


def _fx_table() -> dict[str, Any]:
    with SNIPPET.open("rb") as fh:
        return dict(tomllib.load(fh)["fx"])


CFG = FxConfig(**_fx_table())
TINY = FxConfig(**{**_fx_table(), "max_slippage_pips": 0.1})

# The same company on NYSE (USD) and TSX (CAD); risk in the capital currency (USD).
TD_US = VenueCandidate(
    "TD", "USD", expected_credit=40.0, commissions=5.2, risk=60.0, cash_needed=60.0
)


def _td_to(credit_cad: float) -> VenueCandidate:
    return VenueCandidate(
        "TD.TO", "CAD", expected_credit=credit_cad, commissions=10.0, risk=60.0, cash_needed=80.0
    )


def _services(tmp_path: Path) -> Any:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    services = build_sim_services(cfg, tmp_path, days=5, emit=lambda _m: None)
    services.broker.on_time(OPEN)
    return services


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Services for tests that place no order (the account stays 1 000 USD)."""
    return _services(tmp_path_factory.mktemp("fx_market"))


@pytest.fixture()
def fresh(tmp_path: Path) -> Any:
    """Services whose account a test may change."""
    return _services(tmp_path)


class QuoteBroker(SimBroker):
    """The SimBroker with its USD.CAD quote passed through `transform` (stale, NaN, crossed…)."""

    transform: Callable[[FxQuote], FxQuote] = staticmethod(lambda q: q)

    def fx_quote(self, pair: str) -> FxQuote:
        return self.transform(super().fx_quote(pair))


def _quote_broker(services: Any, transform: Callable[[FxQuote], FxQuote]) -> QuoteBroker:
    b = services.broker
    out = QuoteBroker(
        b.market, b.listings, b.commissions, b.p_mid, b.seed, b.base_currency, {"USD": 1000.0}
    )
    out.transform = transform  # type: ignore[method-assign]
    out.connect()
    return out


def _now(services: Any) -> datetime:
    return services.broker.market.now


# -- config ---------------------------------------------------------------------------------------


def test_fx_table_validates_and_names_cross_listings() -> None:
    assert CFG.max_slippage_pips == 1.0 and CFG.min_commission == 2.0
    assert CFG.venues_of("TD.TO") == ("TD", "TD.TO")
    assert CFG.venues_of("XLF") == ("XLF",)
    for bad in ([["TD"]], [["TD", "TD"]], [["TD", "TD.TO"], ["TD", "X"]], [["TD", " "]]):
        with pytest.raises(ValidationError, match="cross_listings"):
            FxConfig(**{**_fx_table(), "cross_listings": bad})
    with pytest.raises(ValidationError, match="max_slippage_pips"):
        FxConfig(**{**_fx_table(), "max_slippage_pips": 0.0})
    data = _fx_table()
    del data["commission_rate"]
    with pytest.raises(ValidationError, match="commission_rate"):
        FxConfig(**data)


# -- arithmetic -----------------------------------------------------------------------------------


def test_fx_cost_by_hand(market: Any) -> None:
    router = FxRouter(CFG, "USD", market.broker)
    q = FxQuote(PAIR, 1.36995, 1.37005, OPEN)  # mid 1.37, spread 1 pip
    assert router.fx_cost("CAD", 80.0, {"USD": 1000.0, "CAD": 80.0}, q) == (0.0, None)
    cost, plan = router.fx_cost("CAD", 80.0, {"USD": 1000.0, "CAD": 5.0}, q)
    assert plan is not None and plan.action == "SELL" and plan.currency == "CAD"
    assert plan.limit_price == pytest.approx(1.3699)  # mid − 1 pip
    assert plan.amount_short == pytest.approx(75.0)
    assert plan.qty == 55  # ceil(75 / 1.3699) = ceil(54.75)
    assert plan.commission == 2.0  # 0.00002 × 55 < 2 USD minimum
    assert plan.funding_currency == "USD" and plan.funding_amount == pytest.approx(57.0)
    assert plan.expected_slippage_pips == pytest.approx(0.5)
    assert cost == pytest.approx(0.00005 * 55 / 1.37 + 2.0)
    # BUY USD with CAD: qty covers the shortfall net of the USD commission
    cost, plan = router.fx_cost("USD", 50.0, {"USD": 10.0, "CAD": 500.0}, q)
    assert plan is not None and plan.action == "BUY"
    assert plan.limit_price == pytest.approx(1.3701)
    assert plan.qty == 42  # 42 − 2 commission = 40 short
    assert plan.funding_currency == "CAD" and plan.funding_amount == pytest.approx(42 * 1.3701)
    assert cost == pytest.approx(0.00005 * 42 / 1.37 + 2.0)
    # a buffer converts more than the exact need
    buffered_cfg = FxConfig(**{**_fx_table(), "conversion_buffer_pct": 10.0})
    buffered = FxRouter(buffered_cfg, "USD", market.broker)
    _, plan = buffered.fx_cost("CAD", 80.0, {"USD": 1000.0}, q)
    assert plan is not None and plan.amount_target == pytest.approx(88.0)
    assert plan.qty == math.ceil(88.0 / 1.3699)
    assert ConversionPlan.from_dict(plan.as_dict()) == plan


def test_net_ev_of_each_venue_by_hand(market: Any) -> None:
    router = FxRouter(CFG, "USD", market.broker)
    q = market.broker.fx_quote(PAIR)
    v = router.choose_venue([TD_US, _td_to(70.0)], _now(market))
    assert v.allowed, v.reason
    rows = {r["listing_id"]: r for r in v.details["venues"]}
    assert rows["TD"]["net_ev"] == pytest.approx((40.0 - 5.2) / 60.0)
    assert rows["TD"]["fx_cost_capital"] == 0.0 and rows["TD"]["conversion"] is None
    limit = math.ceil((q.mid - PIP) * 1e5 - 1e-9) / 1e5
    qty = math.ceil(80.0 / limit)
    fx_cost = (q.ask - q.bid) / 2 * qty / q.mid + max(2.0, 0.00002 * qty)
    r = rows["TD.TO"]
    assert r["credit_capital"] == pytest.approx(70.0 / q.mid)
    assert r["commissions_capital"] == pytest.approx(10.0 / q.mid)
    assert r["fx_cost_capital"] == pytest.approx(fx_cost)
    assert r["net_ev"] == pytest.approx((70.0 / q.mid - 10.0 / q.mid - fx_cost) / 60.0)
    assert r["conversion"]["qty"] == qty
    # the CAD venue's larger credit survives the conversion cost
    assert v.details["chosen"] == "TD.TO" and v.score == pytest.approx(r["net_ev"])
    assert v.details["conversion"] == r["conversion"]
    assert v.agent == "fx_router" and "TD.TO" in v.reason and "SELL" in v.reason


def test_conversion_cost_can_hand_the_trade_to_the_us_venue(fresh: Any) -> None:
    b = fresh.broker
    router = FxRouter(CFG, "USD", b)
    mid = b.fx_quote(PAIR).mid
    # 1 USD better than the US venue before FX, ~2 USD worse after it
    cad = _td_to((40.0 - 5.2 + 1.0) * mid + 10.0)
    v = router.choose_venue([TD_US, cad], _now(fresh))
    assert v.allowed and v.details["chosen"] == "TD" and v.details["conversion"] is None
    # once the account holds the CAD, no conversion is needed and the CAD venue wins
    q = b.fx_quote(PAIR)
    assert b.place_fx_order(PAIR, "SELL", 200, q.bid, "seeker:fx:t:seed").filled == 200
    v = router.choose_venue([TD_US, cad], _now(fresh))
    assert v.allowed and v.details["chosen"] == "TD.TO" and v.details["conversion"] is None
    rows = {r["listing_id"]: r for r in v.details["venues"]}
    assert rows["TD.TO"]["net_ev"] == pytest.approx((40.0 - 5.2 + 1.0) / 60.0)


# -- conversions ----------------------------------------------------------------------------------


def test_conversion_sized_exactly_and_filled_within_the_limit(fresh: Any) -> None:
    b = fresh.broker
    router = FxRouter(CFG, "USD", b)
    v = router.choose_venue([_td_to(70.0)], _now(fresh))
    assert v.allowed, v.reason
    plan = ConversionPlan.from_dict(v.details["conversion"])
    assert plan.qty * plan.limit_price >= 80.0 > (plan.qty - 1) * plan.limit_price
    before = b.account().cash
    done = router.convert(plan, "seeker:iron_condor:p1:fx")
    assert done.allowed, done.reason
    d = done.details
    assert d["status"] == "filled" and d["filled"] == plan.qty
    assert d["fill_price"] >= plan.limit_price  # a SELL never below its limit
    assert 0.0 <= d["slippage_pips"] <= CFG.max_slippage_pips
    assert d["slippage_pips"] == pytest.approx((plan.mid - d["fill_price"]) / PIP)
    assert d["commission"] == pytest.approx(max(2.0, 0.00002 * plan.qty))
    assert d["commission_currency"] == "USD"
    after = b.account().cash
    assert after["CAD"] == pytest.approx(before.get("CAD", 0.0) + plan.qty * d["fill_price"])
    assert after["USD"] == pytest.approx(before["USD"] - plan.qty - d["commission"])
    assert after["CAD"] >= 80.0
    assert router.cash() == pytest.approx(after)
    # with the CAD now held, the same trade needs no further conversion
    again = router.choose_venue([_td_to(70.0)], _now(fresh))
    assert again.allowed and again.details["conversion"] is None


def test_buying_usd_covers_the_need_net_of_commission(fresh: Any) -> None:
    b = fresh.broker
    q = b.fx_quote(PAIR)
    assert b.place_fx_order(PAIR, "SELL", 900, q.bid, "seeker:fx:t:seed").filled == 900
    router = FxRouter(CFG, "CAD", b)  # a CAD-capital account, so the USD venue needs FX
    usd = VenueCandidate("TD", "USD", 40.0, 5.2, risk=80.0, cash_needed=300.0)
    v = router.choose_venue([usd], _now(fresh))
    assert v.allowed, v.reason
    plan = ConversionPlan.from_dict(v.details["conversion"])
    assert plan.action == "BUY" and plan.currency == "USD"
    before = b.account().cash
    done = router.convert(plan, "seeker:credit_spread:p2:fx")
    assert done.allowed, done.reason
    price, commission = done.details["fill_price"], done.details["commission"]
    assert price <= plan.limit_price and done.details["slippage_pips"] <= CFG.max_slippage_pips
    after = b.account().cash
    assert after["USD"] == pytest.approx(before["USD"] + plan.qty - commission)
    assert after["CAD"] == pytest.approx(before["CAD"] - plan.qty * price)
    assert after["USD"] >= 300.0 > after["USD"] - 1.0


def test_slippage_beyond_the_limit_refuses(market: Any) -> None:
    b = market.broker
    q = b.fx_quote(PAIR)
    half = (q.ask - q.bid) / 2 / PIP
    assert half > TINY.max_slippage_pips
    router = FxRouter(TINY, "USD", b)
    v = router.choose_venue([_td_to(70.0)], _now(market))
    assert not v.allowed
    assert "slippage" in v.reason and f"{half:.2f} pip > max 0.1 pip" in v.reason
    # a USD venue needing no conversion is still chosen over the unconvertible CAD one
    both = router.choose_venue([TD_US, _td_to(500.0)], _now(market))
    assert both.allowed and both.details["chosen"] == "TD"
    excluded = {r["listing_id"]: r["excluded"] for r in both.details["venues"]}
    assert "slippage" in excluded["TD.TO"] and excluded["TD"] is None


def test_conversion_that_cannot_fill_within_the_limit_sends_no_order(fresh: Any) -> None:
    b = fresh.broker
    router = FxRouter(TINY, "USD", b)
    _, plan = router.fx_cost("CAD", 80.0, b.account().cash, b.fx_quote(PAIR))
    assert plan is not None
    before = b.account().cash
    done = router.convert(plan, "seeker:iron_condor:p3:fx")
    assert not done.allowed
    assert "no order" in done.reason and "not marketable" in done.reason
    assert done.details["status"] == "rejected" and done.details["filled"] == 0
    assert b.account().cash == before


def test_stale_quote_refuses(market: Any) -> None:
    now = _now(market)
    stale = _quote_broker(
        market, lambda q: FxQuote(q.pair, q.bid, q.ask, q.ts - timedelta(minutes=5))
    )
    router = FxRouter(CFG, "USD", stale)
    v = router.choose_venue([TD_US, _td_to(70.0)], now)
    assert not v.allowed and "USD.CAD quote is 300 s old (max 30 s)" in v.reason
    # a USD venue with enough USD needs no rate: the stale quote is not read
    assert router.choose_venue([TD_US], now).allowed
    short = VenueCandidate("TD", "USD", 40.0, 5.2, risk=60.0, cash_needed=5000.0)
    assert not router.choose_venue([short], now).allowed


@pytest.mark.parametrize(
    ("transform", "words"),
    [
        (lambda q: FxQuote(q.pair, math.nan, q.ask, q.ts), "missing or NaN"),
        (lambda q: FxQuote(q.pair, q.ask + 0.001, q.ask, q.ts), "crossed"),
    ],
)
def test_bad_quote_refuses(
    market: Any, transform: Callable[[FxQuote], FxQuote], words: str
) -> None:
    router = FxRouter(CFG, "USD", _quote_broker(market, transform))
    v = router.choose_venue([_td_to(70.0)], _now(market))
    assert not v.allowed and words in v.reason


def test_missing_quote_refuses(market: Any) -> None:
    def unavailable(_q: FxQuote) -> FxQuote:
        raise DataUnavailable("no USD.CAD market data")

    router = FxRouter(CFG, "USD", _quote_broker(market, unavailable))
    v = router.choose_venue([_td_to(70.0)], _now(market))
    assert not v.allowed and v.reason == "USD.CAD quote unavailable: no USD.CAD market data"


def test_quote_problem_and_bad_candidates(market: Any) -> None:
    q = FxQuote(PAIR, 1.37, 1.3701, OPEN)
    assert fx_quote_problem(q, OPEN + timedelta(seconds=30), 30.0) is None
    assert "31 s old" in str(fx_quote_problem(q, OPEN + timedelta(seconds=31), 30.0))
    router = FxRouter(CFG, "USD", market.broker)
    now = _now(market)
    assert "no venue" in router.choose_venue([], now).reason
    nan_risk = VenueCandidate("TD", "USD", 40.0, 5.2, risk=math.nan, cash_needed=60.0)
    assert "risk unknown" in router.choose_venue([nan_risk], now).reason
    eur = VenueCandidate("SAP", "EUR", 40.0, 5.2, risk=60.0, cash_needed=60.0)
    assert "not supported" in router.choose_venue([eur], now).reason
    broke = VenueCandidate("TD.TO", "CAD", 70.0, 10.0, risk=60.0, cash_needed=5000.0)
    v = router.choose_venue([broke], now)
    assert not v.allowed and "the account holds 1000.00" in v.reason


# -- exposure -------------------------------------------------------------------------------------


def test_exposure_is_thread_safe(market: Any) -> None:
    router = FxRouter(CFG, "USD", market.broker)

    def work(ccy: str) -> None:
        for _ in range(2000):
            router.record(ccy, 1.5)
            router.record(ccy, -0.5)

    threads = [threading.Thread(target=work, args=(c,)) for c in ("USD", "CAD") * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert router.exposure() == {"USD": pytest.approx(8000.0), "CAD": pytest.approx(8000.0)}
    router.record("CAD", -8000.0)
    assert router.exposure()["CAD"] == 0.0
    with pytest.raises(ValueError, match="negative"):
        router.record("CAD", -1.0)
    assert router.cash() == {}
    assert router.refresh_cash() == {"USD": pytest.approx(1000.0)}
    assert router.cash() == {"USD": pytest.approx(1000.0)}
