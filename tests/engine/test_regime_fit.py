"""A strategy's regime fit is made once per regime and rule, and made again when either changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from seeker.agents.selection import RegimeRule, select
from seeker.config.loading import validate_config
from seeker.engine.wiring import build_sim_services
from seeker.strategies.credit_spread.strategy import CreditSpread, trend_side
from tests.agents.test_selection import regime
from tests.support import ROOT, shipped, strategy_config_models


@pytest.fixture(scope="module")
def strategy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CreditSpread]:
    """The credit spread (it takes the trend's side) on the simulated market's services."""
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    services = build_sim_services(cfg, tmp_path_factory.mktemp("fit"), days=5, emit=lambda _m: None)
    table = cfg.strategies.table("credit_spread")
    assert table is not None
    try:
        yield CreditSpread(services, table)  # type: ignore[arg-type]
    finally:
        services.broker.close()
        services.close_journals()


def _fresh(strategy: CreditSpread, r: Any) -> dict[str, Any]:
    """Return the verdict select gives now, as a journal mapping."""
    return select(strategy.name, strategy.config.regime, r, trend_side).as_dict()


def test_the_same_regime_and_rule_give_the_same_verdict(strategy: CreditSpread) -> None:
    r = regime(trend="up")
    fit = strategy.regime_fit(r)
    assert strategy.regime_fit(r) is fit
    assert fit.as_dict() == _fresh(strategy, r)


def test_a_new_regime_of_the_listing_is_fitted_again(strategy: CreditSpread) -> None:
    up = strategy.regime_fit(regime(trend="up"))
    down_regime = regime(trend="down")
    down = strategy.regime_fit(down_regime)
    assert down.as_dict() == _fresh(strategy, down_regime)
    assert down.details["side"] != up.details["side"]
    r = replace(down_regime, iv_rank=10.0, ivr="low")  # type: ignore[arg-type]
    assert strategy.regime_fit(r).as_dict() == _fresh(strategy, r)


def test_a_new_rule_is_applied_at_once(strategy: CreditSpread) -> None:
    r = regime(trend="up")
    assert strategy.regime_fit(r).allowed
    before = strategy.config
    rule = RegimeRule.model_validate({**before.regime.as_dict(), "trend": ["down"]})
    strategy.config = before.model_copy(update={"regime": rule})
    try:
        fit = strategy.regime_fit(r)
        assert not fit.allowed
        assert fit.as_dict() == _fresh(strategy, r)
    finally:
        strategy.config = before


def test_fits_follow_each_listing(strategy: CreditSpread) -> None:
    xlf = regime(trend="up")
    other = replace(regime(trend="down"), listing_id="IWM")
    fit_xlf = strategy.regime_fit(xlf)
    strategy.regime_fit(other)
    assert strategy.regime_fit(xlf) is fit_xlf
    assert strategy.regime_fit(other).as_dict() == _fresh(strategy, other)
