"""Iron fly management, first rule that fires (the spec: TP +40–50 %; watch gamma; stay away from
major events)::

    force_exit               DTE ≤ force_exit_dte: close at the natural (urgent)
    stop_at_debit_multiple   debit ≥ stop_debit_multiple × credit (binds only while the credit is
                             below width / multiple: the debit never exceeds the width)
    gamma                    a 1-ATR move costs ≥ gamma_exit_pct % of max loss through gamma
    manage_at_dte            DTE ≤ manage_dte
    take_profit              debit ≤ (1 − take_profit_pct %) × credit, a limit at that target

The gamma measure is the one the confidence score shows as "Gamma ↑": the loss a move of one
average true range would cost through the position's gamma alone, ½ · max(0, −Γ) · ATR² ·
multiplier ($ per unit, Γ = Σ sign · ratio · gamma of the legs), as a percentage of the position's
max loss per unit (its worst loss at expiry with round-trip commissions, $). A short straddle's
gamma grows as expiry nears with the price at the centre; this rule closes the fly before a
one-ATR day can take a large share of what it may lose. Without an ATR the rule is skipped (the
confidence score shows "Gamma ?") and the others still apply.
"""

from __future__ import annotations

import math

from seeker.engine.signals import ExitSignal, PositionView
from seeker.strategies.common.exits import (
    ExitInputs,
    ExitRule,
    force_exit,
    manage_at_dte,
    stop_at_debit_multiple,
    take_profit,
)
from seeker.strategies.iron_fly.config import IronFlyConfig


def gamma_loss_pct(view: PositionView, atr: float) -> float:
    """Return ½·max(0, −Γ)·ATR²·multiplier as a % of the max loss per unit (NaN if unknown).

    `atr` is the underlying's average true range ($ per share); NaN, ≤ 0 or a max loss ≤ 0 give
    NaN.
    """
    pos = view.position
    if not (math.isfinite(atr) and atr > 0.0 and pos.max_loss_unit > 0.0):
        return math.nan
    gamma = sum(leg.sign * leg.ratio * view.quote(leg.contract).gamma for leg in pos.legs)
    if not math.isfinite(gamma):
        return math.nan
    loss = 0.5 * max(0.0, -gamma) * atr**2 * pos.multiplier
    return 100.0 * loss / pos.max_loss_unit


def gamma(cfg: IronFlyConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``gamma``: gamma_loss_pct(view, atr) ≥ gamma_exit_pct (skipped without an ATR)."""
    view, atr = inputs.view, inputs.atr
    share = gamma_loss_pct(view, atr)
    if math.isfinite(share) and share >= cfg.gamma_exit_pct:
        return ExitSignal(
            "gamma",
            view.position.open_qty,
            f"a 1-ATR move ({atr:.2f}) costs {share:.0f} % of max loss through gamma "
            f"≥ {cfg.gamma_exit_pct:g} %",
        )
    return None


EXITS: tuple[ExitRule[IronFlyConfig], ...] = (
    force_exit,
    stop_at_debit_multiple,
    gamma,
    manage_at_dte,
    take_profit,
)
"""The iron fly's management, in order (see the module's docstring)."""
