"""The toy's management, first rule that fires::

force_exit               DTE ≤ force_exit_dte: close at the natural (urgent)
stop_at_debit_multiple   debit to close ≥ stop_debit_multiple × credit
manage_at_dte            DTE ≤ manage_dte
take_profit              debit ≤ (1 − take_profit_pct %) × credit, a limit at that target
"""

from __future__ import annotations

from seeker.strategies.common.exits import (
    ExitRule,
    force_exit,
    manage_at_dte,
    stop_at_debit_multiple,
    take_profit,
)
from tests.toy_strategy.config import ToyPutSpreadConfig

EXITS: tuple[ExitRule[ToyPutSpreadConfig], ...] = (
    force_exit,
    stop_at_debit_multiple,
    manage_at_dte,
    take_profit,
)
