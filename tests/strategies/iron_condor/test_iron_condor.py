"""Iron condor: leg selection on constructed chains, each exit rule, max loss vs a payoff grid."""

from __future__ import annotations

from datetime import date, time

import numpy as np
import pytest

from seeker.core.execution import combo_mid, combo_natural
from seeker.core.models import Leg
from seeker.core.payoff import pnl_at_expiry
from seeker.engine.signals import PositionView
from seeker.strategies.iron_condor import risk, scanner
from seeker.strategies.iron_condor.config import IronCondorConfig
from tests.strategies.contract import StrategyContract
from tests.strategies.fixtures import (
    COMMON_STRATEGY_FIELDS,
    LISTING,
    NOW,
    TODAY,
    chain,
    first_signal,
    ladder_side,
    position,
)

EXP45 = date(2026, 4, 17)  # 46 DTE from 2026-03-02
EXP30 = date(2026, 4, 2)  # 31 DTE: outside 35-55


def config(**over: object) -> IronCondorConfig:
    base: dict[str, object] = dict(
        **COMMON_STRATEGY_FIELDS,
        dte_min=35,
        dte_target=45,
        dte_max=55,
        short_delta_min=0.10,
        short_delta_max=0.15,
        wing_widths=[0.5, 1.0],
        min_credit=0.10,
        take_profit_pct=50.0,
        stop_debit_multiple=2.0,
        exit_on_touch=True,
        manage_dte=21,
        force_exit_dte=5,
        delta_red_line=0.30,
        proximity_red_line_pct=1.0,
        red_line_close_fraction=0.5,
    )
    base.update(over)
    return IronCondorConfig.model_validate(base)


def constructed_chain():
    # puts: strike, bid, ask, delta
    puts = ladder_side(
        EXP45,
        "P",
        [
            (44.0, 0.05, 0.07, -0.06),
            (44.5, 0.07, 0.09, -0.08),
            (45.0, 0.10, 0.12, -0.105),
            (45.5, 0.13, 0.15, -0.125),
            (46.0, 0.17, 0.19, -0.16),
            (47.0, 0.28, 0.30, -0.22),
        ],
    )
    calls = ladder_side(
        EXP45,
        "C",
        [
            (53.0, 0.27, 0.29, 0.21),
            (54.0, 0.16, 0.18, 0.155),
            (54.5, 0.12, 0.14, 0.13),
            (55.0, 0.09, 0.11, 0.11),
            (55.5, 0.06, 0.08, 0.085),
            (56.0, 0.04, 0.06, 0.065),
        ],
    )
    near = ladder_side(EXP30, "P", [(45.5, 0.08, 0.10, -0.12)])
    return chain([*puts, *calls, *near], spot=50.0)


def test_picks_shorts_nearest_the_middle_of_the_delta_band_and_wings_by_width() -> None:
    setups, _ = scanner.find_setups(
        config(min_credit=0.05), "iron_condor", LISTING, constructed_chain(), TODAY
    )
    by_width = {s.features["width"]: s for s in setups}
    assert set(by_width) == {0.5, 1.0}
    ic = by_width[0.5]
    strikes = [(leg.contract.strike, leg.contract.right, leg.action) for leg in ic.legs]
    # |Δ| 0.125 (45.5P) and 0.13 (54.5C) are nearest 0.125; wings 0.50 $ further out
    assert strikes == [
        (45.5, "P", "SELL"),
        (45.0, "P", "BUY"),
        (54.5, "C", "SELL"),
        (55.0, "C", "BUY"),
    ]
    assert ic.expiry == EXP45 and ic.dte == 46
    # mid credit: (0.14 - 0.11) + (0.13 - 0.10) = 0.06
    assert combo_mid(ic.legs, ic.quotes) == pytest.approx(-0.06)
    assert combo_natural(ic.legs, ic.quotes) == pytest.approx(-(0.13 - 0.12) - (0.12 - 0.11))


def test_min_credit_filters_and_says_why() -> None:
    setups, note = scanner.find_setups(
        config(min_credit=0.20), "iron_condor", LISTING, constructed_chain(), TODAY
    )
    assert setups == []
    assert "mid credit" in note and "< 0.20" in note


def test_wider_wings_carry_more_credit_and_rank_by_credit_to_risk() -> None:
    setups, _ = scanner.find_setups(
        config(min_credit=0.01), "iron_condor", LISTING, constructed_chain(), TODAY
    )
    credits = {s.features["width"]: -s.mid for s in setups}
    assert credits[1.0] == pytest.approx((0.14 - 0.08) + (0.13 - 0.07))
    ratios = [-s.mid / s.worst_loss(s.mid) for s in setups]
    assert ratios == sorted(ratios, reverse=True)


def test_no_expiry_in_window_is_reported() -> None:
    c = chain(ladder_side(EXP30, "P", [(45.5, 0.08, 0.10, -0.12)]))
    setups, note = scanner.find_setups(config(), "iron_condor", LISTING, c, TODAY)
    assert setups == [] and "no expiry" in note


def test_no_short_in_delta_band_is_reported() -> None:
    c = chain(
        ladder_side(EXP45, "P", [(47.0, 0.28, 0.30, -0.22)])
        + ladder_side(EXP45, "C", [(54.5, 0.12, 0.14, 0.13)])
    )
    setups, note = scanner.find_setups(config(), "iron_condor", LISTING, c, TODAY)
    assert setups == [] and "no put" in note


def test_max_loss_matches_brute_force_payoff() -> None:
    setups, _ = scanner.find_setups(
        config(min_credit=0.01), "iron_condor", LISTING, constructed_chain(), TODAY
    )
    grid = np.linspace(0.0, 120.0, 240_001)
    for s in setups:
        for debit in (s.mid, s.natural, -0.01):
            brute = -pnl_at_expiry(s.legs, debit, grid).min()
            assert s.worst_loss(debit) == pytest.approx(brute, abs=1e-9)
            assert s.worst_loss(debit) == pytest.approx(s.features["width"] + debit)


# -- exits -----------------------------------------------------------------------------------


def _view(
    spot: float,
    close_mid: float,
    dte: int,
    deltas: dict[float, float] | None = None,
    qty: int = 1,
    reduced: bool = False,
) -> PositionView:
    c = constructed_chain()
    legs = [
        Leg(c.quote(EXP45, 45.5, "P").contract, "SELL"),  # type: ignore[union-attr]
        Leg(c.quote(EXP45, 45.0, "P").contract, "BUY"),  # type: ignore[union-attr]
        Leg(c.quote(EXP45, 54.5, "C").contract, "SELL"),  # type: ignore[union-attr]
        Leg(c.quote(EXP45, 55.0, "C").contract, "BUY"),  # type: ignore[union-attr]
    ]
    pos = position(legs, entry_price=-0.12, qty=qty)
    pos.reduced = reduced
    quotes = {}
    for leg in legs:
        q = c.quote(leg.contract.expiry, leg.contract.strike, leg.contract.right)
        assert q is not None
        if deltas and leg.contract.strike in deltas:
            q = q._replace(delta=deltas[leg.contract.strike])
        quotes[leg.contract] = q
    return PositionView(pos, NOW, spot, dte, quotes, close_mid, close_mid + 0.04)


def test_take_profit_at_half_the_credit() -> None:
    assert first_signal(risk.EXITS, config(), _view(50.0, 0.07, 40)) is None
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.06, 40))
    assert sig is not None and sig.rule == "take_profit" and sig.qty == 1


def test_stop_at_twice_the_credit() -> None:
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.24, 40))
    assert sig is not None and sig.rule == "stop"


def test_touch_of_a_short_strike_exits_urgently() -> None:
    sig = first_signal(risk.EXITS, config(), _view(45.5, 0.10, 40))
    assert sig is not None and sig.rule == "touch" and sig.urgent
    sig = first_signal(risk.EXITS, config(), _view(54.6, 0.10, 40))
    assert sig is not None and sig.rule == "touch"
    assert (
        first_signal(
            risk.EXITS,
            config(exit_on_touch=False, proximity_red_line_pct=0.1),
            _view(54.6, 0.10, 40),
        )
        is None
    )


def test_manage_at_21_dte_and_force_exit() -> None:
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.10, 21))
    assert sig is not None and sig.rule == "manage_dte" and not sig.urgent
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.10, 5))
    assert sig is not None and sig.rule == "force_exit" and sig.urgent


def test_red_lines_close_part_once() -> None:
    sig = first_signal(risk.EXITS, config(), _view(50.0, 0.15, 40, deltas={45.5: -0.31}, qty=4))
    assert sig is not None and sig.rule == "red_line_delta" and sig.qty == 2
    sig = first_signal(risk.EXITS, config(), _view(45.9, 0.15, 40, qty=3))
    assert sig is not None and sig.rule == "red_line_proximity" and sig.qty == 2
    assert first_signal(risk.EXITS, config(), _view(45.9, 0.15, 40, qty=2, reduced=True)) is None


def test_config_rejects_inconsistent_ranges() -> None:
    with pytest.raises(ValueError, match="dte_target"):
        config(dte_target=30)
    with pytest.raises(ValueError, match="short_delta_max"):
        config(short_delta_max=0.05)
    with pytest.raises(ValueError, match="manage_dte"):
        config(manage_dte=40)
    with pytest.raises(ValueError, match="entry_window"):
        config(entry_window_end=time(9, 0))
    assert NOW.tzinfo is not None


class TestIronCondorContract(StrategyContract):
    """The contract every strategy package keeps, for the iron condor."""

    name = "iron_condor"
