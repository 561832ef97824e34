"""Broken-wing butterfly management, first rule that fires (the spec: TP +40–50 %; stop on a fast
move toward the unfavourable short wing)::

    force_exit      DTE ≤ force_exit_dte (urgent)
    breakeven       spot at or below the lower breakeven at expiry, inside the zone toward the
                    broken wing where it loses (urgent) — the body itself is its best point
    fast_move       the underlying fell ≥ move_atr ATRs from its high of the last move_sessions
                    sessions since entry (urgent); the strategy measures the fall
    manage_at_dte   DTE ≤ manage_dte
    take_profit     debit ≤ (1 − take_profit_pct %) × credit, a limit at that target
"""

from __future__ import annotations

from functools import lru_cache

from seeker.core.models import Leg
from seeker.core.payoff import breakevens_at_expiry
from seeker.engine.signals import ExitSignal
from seeker.strategies.broken_wing_butterfly.config import BrokenWingButterflyConfig
from seeker.strategies.common.exits import (
    ExitInputs,
    ExitRule,
    force_exit,
    manage_at_dte,
    take_profit,
)


def breakeven(cfg: BrokenWingButterflyConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``breakeven`` (urgent): the spot at or below the structure's lower breakeven at expiry."""
    view = inputs.view
    pos = view.position
    body = max(leg.contract.strike for leg in pos.legs if leg.action == "SELL")
    below = [b for b in _breakevens(tuple(pos.legs), pos.entry_price) if b < body]
    floor = max(below) if below else body
    if view.spot <= floor:
        return ExitSignal(
            "breakeven",
            pos.open_qty,
            f"spot {view.spot:.2f} at or below the lower breakeven {floor:.2f} (body {body:g})",
            urgent=True,
        )
    return None


@lru_cache(maxsize=256)
def _breakevens(legs: tuple[Leg, ...], entry_price: float) -> tuple[float, ...]:
    """Return the breakevens at expiry of `legs` bought at `entry_price` (cached: every poll of a
    position asks again, and the answer depends on nothing else)."""
    return tuple(breakevens_at_expiry(legs, entry_price))


def fast_move(cfg: BrokenWingButterflyConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``fast_move`` (urgent): a fall of ``move_atr`` ATRs or more toward the broken wing (no
    such stop when the fall cannot be measured this poll)."""
    fall = inputs.fall_atr
    if fall is not None and fall >= cfg.move_atr:
        return ExitSignal(
            "fast_move",
            inputs.view.position.open_qty,
            f"fell {fall:.2f} ATR within {cfg.move_sessions} session(s) "
            f"(≥ {cfg.move_atr:g}) toward the broken wing",
            urgent=True,
        )
    return None


EXITS: tuple[ExitRule[BrokenWingButterflyConfig], ...] = (
    force_exit,
    breakeven,
    fast_move,
    manage_at_dte,
    take_profit,
)
"""The broken-wing butterfly's management, in order (see the module's docstring)."""
