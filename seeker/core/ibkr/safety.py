"""Paper by default: when IBKRBroker refuses to connect to a live port or a live account.

Live trading needs two opt-ins: ``broker.allow_live = true`` in the config and ``seeker run
--live`` on the command line. Without both, a live port (7496 TWS, 4001 Gateway) is refused before
any socket is opened, and a live account (one not starting with ``DU``, IB's paper prefix) is
refused right after connecting.
"""

from __future__ import annotations

LIVE_PORTS = {7496: "TWS live", 4001: "IB Gateway live"}
PAPER_PORTS = {7497: "TWS paper", 4002: "IB Gateway paper"}
PAPER_ACCOUNT_PREFIX = "DU"


class IbkrSetupError(Exception):
    """Raise when the IBKR session cannot be used as configured (the CLI exits 2)."""


class LiveTradingRefused(IbkrSetupError):
    """Raise when a live port or live account is reached without both live opt-ins."""


def is_paper_account(account: str) -> bool:
    """Return True for an IB paper-trading account id (``DU…``)."""
    return account.upper().startswith(PAPER_ACCOUNT_PREFIX)


def live_problem(port: int, account: str, allow_live: bool, live_flag: bool) -> str | None:
    """Return why this session would trade live without both opt-ins, or None if it may proceed.

    `account` is "" before connecting (only the port is checked then).
    """
    if allow_live and live_flag:
        return None
    missing = " and ".join(
        name
        for name, ok in (
            ("broker.allow_live = true", allow_live),
            ("`seeker run --live`", live_flag),
        )
        if not ok
    )
    if port in LIVE_PORTS:
        return (
            f"port {port} is the {LIVE_PORTS[port]} port: live trading is refused without "
            f"{missing} (paper ports: 7497 TWS, 4002 IB Gateway)"
        )
    if account and not is_paper_account(account):
        return (
            f"account {account} is a live account (paper accounts start with "
            f"{PAPER_ACCOUNT_PREFIX}): live trading is refused without {missing}"
        )
    return None
