"""Funding by margin (``[limits] funding = "margin"``): the account watch asks IBKR's what-if,
through ib_async and a fake TWS over the simulated market, and refuses what margin cannot carry
or what it cannot know."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import validate_config
from seeker.core.calendar import MARKET_TZ
from seeker.core.ibkr.gate import HistoryPacer
from seeker.core.models import ComboOrder, Leg
from seeker.engine.services import Services
from seeker.engine.wiring import build_ibkr_services, build_sim_services
from tests.fake_tws import FakeTWS, WhatIfMargin
from tests.support import ROOT, condor_legs, shipped, strategy_config_models
from tests.tws_support import WireGuard


@pytest.fixture
def margin_world(tmp_path: Path, wire_guard: WireGuard) -> Iterator[tuple[Services, FakeTWS, Any]]:
    sim_cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    market = build_sim_services(sim_cfg, tmp_path / "exchange", days=3, emit=lambda _m: None)
    market.broker.on_time(datetime(2026, 1, 5, 10, 30, tzinfo=MARKET_TZ))
    fake = FakeTWS(market.broker, market.listings, clock=market.clock.now)
    fake.start_background()
    data = shipped()
    data["broker"].update(kind="ibkr", port=fake.port)
    data["limits"]["funding"] = "margin"
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    services = build_ibkr_services(
        cfg,
        tmp_path / "logs",
        live=False,
        emit=lambda _m: None,
        clock=market.clock,
        pacer=HistoryPacer(100_000, identical_seconds=0.0),
    )
    try:
        yield services, fake, market
    finally:
        services.broker.close()
        services.close_journals()
        fake.close()


def test_the_broker_margin_decides_an_opening(
    margin_world: tuple[Services, FakeTWS, Any],
) -> None:
    services, fake, market = margin_world
    b = market.broker
    expiry = next(e for e in b.expiries("IWM") if (e - market.clock.now().date()).days > 35)
    chain = b.option_chain("IWM", [expiry])
    legs: tuple[Leg, ...] = condor_legs(chain, expiry, b.underlying_quote("IWM").mid, 0.05)
    watch = services.account

    def ask() -> str | None:
        return watch.margin_problem("iron_condor", "ic-20260105-001", "IWM", legs, 1, -0.10)

    # TWS gives no figures: the margin is unknown, the opening refused
    assert "the broker's margin for this order is unknown" in (ask() or "")
    seen: list[ComboOrder] = []

    def margin(room: float) -> Any:
        def figures(combo: ComboOrder) -> WhatIfMargin:
            seen.append(combo)
            return WhatIfMargin(1000.0, 600.0, 1000.0 - room, 500.0, 900.0, 2.6)

        return figures

    fake.what_if_margin = margin(50.0)
    assert ask() is None
    assert seen[-1].order_ref == "seeker:iron_condor:ic-20260105-001:open"
    fake.what_if_margin = margin(-25.0)
    assert ask() == (
        "margin: after this order the initial margin 1,025.00 USD would exceed the equity "
        "with loan 1,000.00 by 25.00"
    )
    # with margin funding, the cash is not what the Risk Guard checks
    assert watch.cash_for_risk(market.clock.now()) is None
