"""Exit rules as data: small named rules, composed per strategy as an ordered tuple.

A strategy's management reads like the spec's lines, first rule that fires wins::

    EXITS = (force_exit, touch, stop_at_debit_multiple, red_line_delta, red_line_proximity,
             manage_at_dte, take_profit)

Each rule is a function ``(config, inputs) -> ExitSignal | None``; ``inputs`` is the position
priced now (``view``) and what the strategy measured for it this poll (``atr``, ``fall_atr``). A
rule reads only the config fields it names (a Protocol), so any strategy whose table has them may
use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from seeker.engine.signals import ExitSignal, PositionView


@dataclass(frozen=True)
class ExitInputs:
    """What an exit rule looks at: the position priced now and the strategy's own measures."""

    view: PositionView
    atr: float = math.nan
    """The underlying's average true range today, $ per share (NaN when unknown)."""
    fall_atr: float | None = None
    """The fall since the recent high, in ATRs (None when it cannot be measured)."""


C = TypeVar("C", contravariant=True)
ExitRule = Callable[[C, ExitInputs], ExitSignal | None]
"""One named exit rule: the signal it gives for a position now, or None."""


def first_exit(rules: Sequence[ExitRule[C]], cfg: C, inputs: ExitInputs) -> ExitSignal | None:
    """Return the signal of the first rule that fires, in the order given, or None."""
    for rule in rules:
        signal = rule(cfg, inputs)
        if signal is not None:
            return signal
    return None


class ForceExitRules(Protocol):
    """A table with a force-exit DTE."""

    @property
    def force_exit_dte(self) -> int: ...


class DebitStopRules(Protocol):
    """A table with a stop at a multiple of the credit."""

    @property
    def stop_debit_multiple(self) -> float: ...


class ManageRules(Protocol):
    """A table with a management DTE."""

    @property
    def manage_dte(self) -> int: ...


class TakeProfitRules(Protocol):
    """A table with a take-profit share of the credit."""

    @property
    def take_profit_pct(self) -> float: ...


def force_exit(cfg: ForceExitRules, inputs: ExitInputs) -> ExitSignal | None:
    """``force_exit`` (urgent, at the natural): DTE ≤ force_exit_dte."""
    view = inputs.view
    if view.dte <= cfg.force_exit_dte:
        return ExitSignal(
            "force_exit",
            view.position.open_qty,
            f"{view.dte} DTE ≤ {cfg.force_exit_dte}",
            urgent=True,
        )
    return None


def stop_at_debit_multiple(cfg: DebitStopRules, inputs: ExitInputs) -> ExitSignal | None:
    """``stop``: the debit to close at mid ≥ stop_debit_multiple × the opening credit."""
    view = inputs.view
    debit, credit = view.close_mid, view.credit
    if debit >= cfg.stop_debit_multiple * credit:
        return ExitSignal(
            "stop",
            view.position.open_qty,
            f"debit {debit:.2f} ≥ {cfg.stop_debit_multiple:g}× credit {credit:.2f}",
        )
    return None


def manage_at_dte(cfg: ManageRules, inputs: ExitInputs) -> ExitSignal | None:
    """``manage_dte``: DTE ≤ manage_dte, whatever the P&L."""
    view = inputs.view
    if view.dte <= cfg.manage_dte:
        return ExitSignal(
            "manage_dte", view.position.open_qty, f"{view.dte} DTE ≤ {cfg.manage_dte}"
        )
    return None


def take_profit(cfg: TakeProfitRules, inputs: ExitInputs) -> ExitSignal | None:
    """``take_profit``: the debit to close ≤ credit × (1 − take_profit_pct / 100), as a limit at
    that target (the close never pays more)."""
    view = inputs.view
    target = view.credit * (1.0 - cfg.take_profit_pct / 100.0)
    debit = view.close_mid
    if debit <= target:
        return ExitSignal(
            "take_profit",
            view.position.open_qty,
            f"debit {debit:.2f} ≤ {target:.2f} ({cfg.take_profit_pct:g} % of credit)",
            limit=target,
        )
    return None
