"""Iron condor management, first rule that fires (the spec: TP +40–50 %; out early if the price
touches a short leg; manage at 21 DTE)::

    force_exit               DTE ≤ force_exit_dte: close at the natural (urgent)
    touch                    spot touches a short strike, if exit_on_touch (urgent)
    stop_at_debit_multiple   debit to close ≥ stop_debit_multiple × credit
    red_line_delta           a short leg's |Δ| ≥ delta_red_line: close red_line_close_fraction
    red_line_proximity       spot within proximity_red_line_pct % of a short: the same
    manage_at_dte            DTE ≤ manage_dte, whatever the P&L
    take_profit              debit ≤ (1 − take_profit_pct %) × credit, a limit at that target

The red lines act once: after a partial close the position is ``reduced`` and they stay quiet.
"""

from __future__ import annotations

import math

from seeker.core.positions import Position
from seeker.engine.signals import ExitSignal
from seeker.strategies.common.exits import (
    ExitInputs,
    ExitRule,
    force_exit,
    manage_at_dte,
    stop_at_debit_multiple,
    take_profit,
)
from seeker.strategies.iron_condor.config import IronCondorConfig


def short_strikes(pos: Position) -> tuple[float | None, float | None]:
    """Return the short put's and the short call's strikes (None for a missing side)."""
    shorts = [leg for leg in pos.legs if leg.action == "SELL"]
    short_put = max(
        (leg.contract.strike for leg in shorts if leg.contract.right == "P"), default=None
    )
    short_call = min(
        (leg.contract.strike for leg in shorts if leg.contract.right == "C"), default=None
    )
    return short_put, short_call


def touch(cfg: IronCondorConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``touch`` (urgent): the spot at or beyond a short strike, when exit_on_touch is on."""
    if not cfg.exit_on_touch:
        return None
    view = inputs.view
    qty = view.position.open_qty
    short_put, short_call = short_strikes(view.position)
    if short_put is not None and view.spot <= short_put:
        return ExitSignal(
            "touch", qty, f"spot {view.spot:.2f} touched short put {short_put:g}", urgent=True
        )
    if short_call is not None and view.spot >= short_call:
        return ExitSignal(
            "touch", qty, f"spot {view.spot:.2f} touched short call {short_call:g}", urgent=True
        )
    return None


def _red_line_units(cfg: IronCondorConfig, pos: Position) -> int:
    """Return how many units a red line closes (at least one)."""
    return max(1, math.ceil(pos.open_qty * cfg.red_line_close_fraction))


def red_line_delta(cfg: IronCondorConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``red_line_delta``: a short leg's |Δ| ≥ delta_red_line closes part of the position."""
    view = inputs.view
    pos = view.position
    if pos.reduced:
        return None
    for leg in pos.legs:
        if leg.action != "SELL":
            continue
        delta = abs(view.quote(leg.contract).delta)
        if delta >= cfg.delta_red_line:
            return ExitSignal(
                "red_line_delta",
                _red_line_units(cfg, pos),
                f"short {leg.contract.strike:g}{leg.contract.right} "
                f"|Δ| {delta:.2f} ≥ {cfg.delta_red_line:.2f}",
            )
    return None


def red_line_proximity(cfg: IronCondorConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``red_line_proximity``: the spot within proximity_red_line_pct % of a short strike closes
    part of the position."""
    view = inputs.view
    pos = view.position
    if pos.reduced:
        return None
    for strike in short_strikes(pos):
        if strike is None:
            continue
        distance = abs(view.spot - strike) / view.spot * 100.0
        if distance <= cfg.proximity_red_line_pct:
            return ExitSignal(
                "red_line_proximity",
                _red_line_units(cfg, pos),
                f"spot {view.spot:.2f} within {distance:.1f} % of short {strike:g}",
            )
    return None


EXITS: tuple[ExitRule[IronCondorConfig], ...] = (
    force_exit,
    touch,
    stop_at_debit_multiple,
    red_line_delta,
    red_line_proximity,
    manage_at_dte,
    take_profit,
)
"""The iron condor's management, in order (see the module's docstring)."""
