"""Iron fly exits: force, stop (debit multiple), gamma, manage at DTE, take profit.

The gamma measure is the one the confidence score shows as "Gamma ↑": the loss a move of one
average true range would cost through the position's gamma alone, ½ · max(0, −Γ) · ATR² ·
multiplier ($ per unit, Γ = Σ sign · ratio · gamma of the legs), as a percentage of the position's
max loss per unit (its worst loss at expiry with round-trip commissions, $). A short straddle's
gamma grows as expiry nears with the price at the centre; this rule closes the fly before a
one-ATR day can take a large share of what it may lose.
"""

from __future__ import annotations

import math

from seeker.core.trading import ExitSignal, PositionView, manage_or_take_profit
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


def exit_signal(cfg: IronFlyConfig, view: PositionView, atr: float) -> ExitSignal | None:
    """Return the first exit rule that fires, in order of urgency, or None.

    `atr` is today's average true range of the underlying ($ per share), NaN when unknown: the
    gamma rule is then skipped (the confidence score shows "Gamma ?") and the others still apply.

    1. ``force_exit`` (urgent, at the natural): DTE ≤ force_exit_dte.
    2. ``stop``: the debit to close at mid ≥ stop_debit_multiple × the opening credit ($/share).
       The debit never exceeds the width, so this binds only while credit < width / multiple.
    3. ``gamma``: gamma_loss_pct(view, atr) ≥ gamma_exit_pct.
    4. ``manage_dte``: DTE ≤ manage_dte.
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
    share = gamma_loss_pct(view, atr)
    if math.isfinite(share) and share >= cfg.gamma_exit_pct:
        return ExitSignal(
            "gamma",
            qty,
            f"a 1-ATR move ({atr:.2f}) costs {share:.0f} % of max loss through gamma "
            f"≥ {cfg.gamma_exit_pct:g} %",
        )
    return manage_or_take_profit(view, qty, credit, debit, cfg.manage_dte, cfg.take_profit_pct)
