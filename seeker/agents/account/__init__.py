"""The account agent: equity, the capital basis of the caps, funding, limits and the kill switch.

* :mod:`~seeker.agents.account.config` — the ``[limits]`` table;
* :mod:`~seeker.agents.account.equity` — equity measured from the broker (cash + positions at
  mid and at the natural) and the cash every open position's max loss must fit in;
* :mod:`~seeker.agents.account.limits` — daily loss, drawdown and errors limits, a person's
  pauses and flattens, as a state machine;
* :mod:`~seeker.agents.account.store` — that state across restarts (write then rename).
"""

from seeker.agents.account.config import (
    LIMIT_NAMES,
    CapitalBasis,
    Funding,
    LimitAction,
    LimitsConfig,
)
from seeker.agents.account.equity import AccountFigures, measure, quote_problem
from seeker.agents.account.limits import (
    ALL,
    AccountLimits,
    Hold,
    LimitEvent,
    LimitsState,
    Trip,
)
from seeker.agents.account.store import load_state, save_state

__all__ = [
    "ALL",
    "LIMIT_NAMES",
    "AccountFigures",
    "AccountLimits",
    "CapitalBasis",
    "Funding",
    "Hold",
    "LimitAction",
    "LimitEvent",
    "LimitsConfig",
    "LimitsState",
    "Trip",
    "load_state",
    "measure",
    "quote_problem",
    "save_state",
]
