"""Credit spread management, first rule that fires (the spec: TP +50 % of the credit; stop at
1.5–2.0× the credit OR a short delta above 0.30; out if unresolved at 21 DTE)::

    force_exit               DTE ≤ force_exit_dte: close at the natural (urgent)
    stop_at_debit_multiple   debit to close ≥ stop_debit_multiple × credit
    delta_stop               the short leg's |Δ| > short_delta_stop
    manage_at_dte            DTE ≤ manage_dte (unresolved at 21 DTE)
    take_profit              debit ≤ (1 − take_profit_pct %) × credit, a limit at that target
"""

from __future__ import annotations

from seeker.engine.signals import ExitSignal
from seeker.strategies.common.exits import (
    ExitInputs,
    ExitRule,
    force_exit,
    manage_at_dte,
    stop_at_debit_multiple,
    take_profit,
)
from seeker.strategies.credit_spread.config import CreditSpreadConfig


def delta_stop(cfg: CreditSpreadConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``delta_stop``: the short leg's |Δ| above short_delta_stop."""
    view = inputs.view
    pos = view.position
    for leg in pos.legs:
        if leg.action != "SELL":
            continue
        delta = abs(view.quote(leg.contract).delta)
        if delta > cfg.short_delta_stop:
            return ExitSignal(
                "delta_stop",
                pos.open_qty,
                f"short {leg.contract.strike:g}{leg.contract.right} "
                f"|Δ| {delta:.2f} > {cfg.short_delta_stop:.2f}",
            )
    return None


EXITS: tuple[ExitRule[CreditSpreadConfig], ...] = (
    force_exit,
    stop_at_debit_multiple,
    delta_stop,
    manage_at_dte,
    take_profit,
)
"""The credit spread's management, in order (see the module's docstring)."""
