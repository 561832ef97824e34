"""IBKR's what-if margin through ib_async against the fake TWS: the figures of an order that is
never placed, a refusal when TWS gives none; the account agent refuses what margin cannot carry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seeker.config.loading import validate_config
from seeker.core.ibkr.broker import IBKRBroker
from seeker.core.margin import MarginBroker
from seeker.core.models import ComboOrder, DataUnavailable, Leg
from seeker.core.sim.broker import SimBroker
from seeker.engine.wiring import build_sim_services
from tests.core.test_ibkr import make_broker
from tests.fake_tws import FakeTWS, WhatIfMargin
from tests.support import ROOT, shipped, strategy_config_models
from tests.tws_support import condor, natural


@pytest.fixture
def broker(tws: FakeTWS) -> Iterator[IBKRBroker]:
    b = make_broker(tws.port)
    b.connect()
    try:
        yield b
    finally:
        b.close()


def order(sim: SimBroker, qty: int = 1) -> ComboOrder:
    legs = condor(sim)
    return ComboOrder(
        "seeker:iron_condor:ic-20260105-001:open",
        "IWM",
        tuple(Leg(c, a) for c, a in legs),  # type: ignore[arg-type]
        qty,
        natural(sim, legs),
    )


def test_what_if_returns_the_margin_after_the_order_and_places_nothing(
    broker: IBKRBroker, tws: FakeTWS, sim: SimBroker
) -> None:
    asked: list[ComboOrder] = []

    def figures(combo: ComboOrder) -> WhatIfMargin:
        asked.append(combo)
        need = 200.0 * combo.qty  # the condor's width × 100 per unit
        return WhatIfMargin(1000.0, 300.0, 300.0 + need, 250.0, 250.0 + need, 2.6)

    tws.what_if_margin = figures
    assert isinstance(broker, MarginBroker)
    impact = broker.what_if(order(sim, qty=2))
    assert (impact.init_margin_after, impact.equity_with_loan_after) == (700.0, 1000.0)
    assert impact.init_margin_change == 400.0 and impact.maint_margin_after == 650.0
    assert impact.excess_after == 300.0 and impact.commission == 2.6
    assert impact.currency == "USD"
    [combo] = asked
    assert combo.qty == 2 and combo.listing_id == "IWM" and len(combo.legs) == 4
    assert broker.open_orders() == [] and sim.positions() == []  # nothing was placed


def test_no_what_if_figures_is_missing_data(broker: IBKRBroker, sim: SimBroker) -> None:
    # the fake refuses what-if orders by default, as TWS does for an account it cannot margin
    with pytest.raises(DataUnavailable, match="no what-if margin"):
        broker.what_if(order(sim))
    assert broker.open_orders() == []


def test_margin_funding_needs_a_broker_that_reports_margin(tmp_path: Path) -> None:
    data = shipped()
    data["limits"]["funding"] = "margin"
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    with pytest.raises(ValueError, match=r'limits\.funding = "margin" needs a broker'):
        build_sim_services(cfg, tmp_path, days=1, emit=lambda _m: None)
