"""A study trial's journals read back as trade records, through the summary's own reading.

`read_trades` is the `seeker.research.trial.TradeReader` every study hands its runs: the trades
are exactly those ``seeker summary`` reports (closed positions, P&L after commissions, regime
class at entry from the ORDER's ``meta.regime_labels``), reduced to what a study grades.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from seeker.core.calendar import MARKET_TZ
from seeker.reports.summary import scan_folder
from seeker.research.runs import TradeRecord


def _session_day(ts: datetime) -> datetime:
    return ts.astimezone(MARKET_TZ)


def read_trades(folder: Path, strategy: str) -> tuple[list[TradeRecord], int]:
    """Return the closed trades of the journal folder `folder` and how many positions are open.

    Trades come in closing order; their dates are New York session dates.
    """
    scan = scan_folder(folder, strategy)
    trades, book = scan.trades, scan.book
    records = []
    for t in trades:
        opened = t.opened_at if t.opened_at is not None else t.closed_at
        records.append(
            TradeRecord(
                position_id=t.position_id,
                underlying=t.underlying,
                opened=_session_day(opened).date(),
                closed=_session_day(t.closed_at).date(),
                net_pnl=round(t.net_pnl, 6),
                commissions=round(t.commissions, 6),
                currency=t.currency,
                regime=t.regime_class,
                exit_rule=t.exit_rule,
            )
        )
    return records, len(book.open_positions())
