"""Broken-wing butterfly exits: force, touch of the body, fast move down, manage at DTE, TP.

In order of urgency:

* ``force_exit``: ``force_exit_dte`` or fewer days left (urgent);
* ``breakeven``: spot at or below the structure's lower breakeven at expiry, i.e. inside the zone
  toward the broken wing where it loses (urgent) — the body itself is its best point;
* ``fast_move``: the underlying fell by ``move_atr`` ATRs or more from its high of the last
  ``move_sessions`` sessions since entry (urgent); the strategy measures the fall
  (``BrokenWingButterfly.fall_atr``), None = unknown this poll, no such stop;
* ``manage_dte``: ``manage_dte`` or fewer days left;
* ``take_profit``: the debit to close at mid is at most (1 − ``take_profit_pct`` %) of the credit;
  the close never pays more than that target.
"""

from __future__ import annotations

from seeker.core.payoff import breakevens_at_expiry
from seeker.core.trading import ExitSignal, PositionView, manage_or_take_profit
from seeker.strategies.broken_wing_butterfly.config import BrokenWingButterflyConfig


def exit_signal(
    cfg: BrokenWingButterflyConfig, view: PositionView, fall_atr: float | None = None
) -> ExitSignal | None:
    """Return the first exit rule that fires, or None.

    `fall_atr` is the fall of the underlying over the last ``move_sessions`` sessions in ATRs
    (highest close − spot) / ATR; None when history or ATR is unavailable (no such stop then).
    """
    pos = view.position
    qty = pos.open_qty
    body = max(leg.contract.strike for leg in pos.legs if leg.action == "SELL")
    if view.dte <= cfg.force_exit_dte:
        return ExitSignal("force_exit", qty, f"{view.dte} DTE ≤ {cfg.force_exit_dte}", urgent=True)
    below = [b for b in breakevens_at_expiry(pos.legs, pos.entry_price) if b < body]
    floor = max(below) if below else body
    if view.spot <= floor:
        return ExitSignal(
            "breakeven",
            qty,
            f"spot {view.spot:.2f} at or below the lower breakeven {floor:.2f} (body {body:g})",
            urgent=True,
        )
    if fall_atr is not None and fall_atr >= cfg.move_atr:
        return ExitSignal(
            "fast_move",
            qty,
            f"fell {fall_atr:.2f} ATR within {cfg.move_sessions} session(s) "
            f"(≥ {cfg.move_atr:g}) toward the broken wing",
            urgent=True,
        )
    return manage_or_take_profit(
        view, qty, view.credit, view.close_mid, cfg.manage_dte, cfg.take_profit_pct
    )
