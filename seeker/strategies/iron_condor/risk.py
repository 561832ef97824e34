"""Iron condor exits: force, touch, stop, red lines (partial), manage at DTE, take profit."""

from __future__ import annotations

import math

from seeker.core.trading import ExitSignal, PositionView, manage_or_take_profit
from seeker.strategies.iron_condor.config import IronCondorConfig


def exit_signal(cfg: IronCondorConfig, view: PositionView) -> ExitSignal | None:
    """Return the first exit rule that fires, in order of urgency, or None."""
    pos = view.position
    qty = pos.open_qty
    credit = view.credit
    debit = view.close_mid
    shorts = [leg for leg in pos.legs if leg.action == "SELL"]
    short_put = max(
        (leg.contract.strike for leg in shorts if leg.contract.right == "P"), default=None
    )
    short_call = min(
        (leg.contract.strike for leg in shorts if leg.contract.right == "C"), default=None
    )
    if view.dte <= cfg.force_exit_dte:
        return ExitSignal("force_exit", qty, f"{view.dte} DTE ≤ {cfg.force_exit_dte}", urgent=True)
    if cfg.exit_on_touch:
        if short_put is not None and view.spot <= short_put:
            return ExitSignal(
                "touch", qty, f"spot {view.spot:.2f} touched short put {short_put:g}", urgent=True
            )
        if short_call is not None and view.spot >= short_call:
            return ExitSignal(
                "touch", qty, f"spot {view.spot:.2f} touched short call {short_call:g}", urgent=True
            )
    if debit >= cfg.stop_debit_multiple * credit:
        return ExitSignal(
            "stop", qty, f"debit {debit:.2f} ≥ {cfg.stop_debit_multiple:g}× credit {credit:.2f}"
        )
    if not pos.reduced:
        part = max(1, math.ceil(qty * cfg.red_line_close_fraction))
        for leg in shorts:
            delta = abs(view.quote(leg.contract).delta)
            if delta >= cfg.delta_red_line:
                return ExitSignal(
                    "red_line_delta",
                    part,
                    f"short {leg.contract.strike:g}{leg.contract.right} "
                    f"|Δ| {delta:.2f} ≥ {cfg.delta_red_line:.2f}",
                )
        for strike in (short_put, short_call):
            if strike is None:
                continue
            distance = abs(view.spot - strike) / view.spot * 100.0
            if distance <= cfg.proximity_red_line_pct:
                return ExitSignal(
                    "red_line_proximity",
                    part,
                    f"spot {view.spot:.2f} within {distance:.1f} % of short {strike:g}",
                )
    return manage_or_take_profit(view, qty, credit, debit, cfg.manage_dte, cfg.take_profit_pct)
