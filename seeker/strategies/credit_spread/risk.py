"""Credit spread exits: force, stop (debit multiple or short delta), manage at DTE, take profit."""

from __future__ import annotations

from seeker.core.trading import ExitSignal, PositionView, manage_or_take_profit
from seeker.strategies.credit_spread.config import CreditSpreadConfig


def exit_signal(cfg: CreditSpreadConfig, view: PositionView) -> ExitSignal | None:
    """Return the first exit rule that fires, in order of urgency, or None.

    1. ``force_exit`` (urgent, at the natural): DTE ≤ force_exit_dte.
    2. ``stop``: the debit to close at mid ≥ stop_debit_multiple × the opening credit ($/share).
    3. ``delta_stop``: the short leg's |Δ| > short_delta_stop (the spec's 0.30).
    4. ``manage_dte``: DTE ≤ manage_dte (unresolved at 21 DTE).
    5. ``take_profit``: the debit to close ≤ credit × (1 − take_profit_pct / 100); the close
       never pays more than that target (``limit``).
    """
    pos = view.position
    qty = pos.open_qty
    credit = view.credit
    debit = view.close_mid
    if view.dte <= cfg.force_exit_dte:
        return ExitSignal("force_exit", qty, f"{view.dte} DTE ≤ {cfg.force_exit_dte}", urgent=True)
    if debit >= cfg.stop_debit_multiple * credit:
        return ExitSignal(
            "stop", qty, f"debit {debit:.2f} ≥ {cfg.stop_debit_multiple:g}× credit {credit:.2f}"
        )
    for leg in pos.legs:
        if leg.action != "SELL":
            continue
        delta = abs(view.quote(leg.contract).delta)
        if delta > cfg.short_delta_stop:
            return ExitSignal(
                "delta_stop",
                qty,
                f"short {leg.contract.strike:g}{leg.contract.right} "
                f"|Δ| {delta:.2f} > {cfg.short_delta_stop:.2f}",
            )
    return manage_or_take_profit(view, qty, credit, debit, cfg.manage_dte, cfg.take_profit_pct)
