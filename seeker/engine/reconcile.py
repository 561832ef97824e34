"""Reconciliation: the positions the journals say we hold against the broker's positions.

Run at start, after every reconnect and on a regular cycle while running. Per option contract, the
open quantity implied by every strategy's journal (its open positions' legs), plus the executions
of our own orders on known positions that no journal holds yet (a fill being journaled right now,
or one the strategy's recovery will journal), must equal what the broker holds. A difference is
written as a RISK line, and the underlying takes no new entry until a later reconciliation finds
it clean.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from seeker.core.broker import Broker
from seeker.core.models import OptionContract
from seeker.core.positions import load_book
from seeker.engine.ledger import JournalLedger, held_by, in_flight


@dataclass(frozen=True)
class Mismatch:
    """One contract whose quantity differs between the journals and the broker."""

    contract: OptionContract
    journal_qty: int
    broker_qty: int

    def __str__(self) -> str:
        return (
            f"{self.contract.key}: journals hold {self.journal_qty:+d}, "
            f"the broker holds {self.broker_qty:+d}"
        )


def journal_positions(root: Path, names: Iterable[str]) -> dict[OptionContract, int]:
    """Return the signed open quantity per contract implied by the strategies' journals."""
    held: dict[OptionContract, int] = defaultdict(int)
    for name in names:
        book, _ = load_book(root / name)
        for pos in book.open_positions():
            for contract, qty in pos.held_contracts().items():
                held[contract] += qty
    return {c: q for c, q in held.items() if q != 0}


def mismatches(
    root: Path,
    names: Iterable[str],
    broker: Broker,
    ledger: JournalLedger | None = None,
    since: datetime | None = None,
) -> list[Mismatch]:
    """Return the contracts whose journal and broker quantities differ, sorted.

    `ledger` keeps the journals read between calls (else they are read whole); executions not
    journaled yet are looked for from `since` (all when None).
    """
    views = (ledger or JournalLedger(root)).views(names)
    ours = held_by(views)
    for contract, qty in in_flight(broker.executions(since), views).items():
        ours[contract] = ours.get(contract, 0) + qty
    theirs = {p.contract: p.qty for p in broker.positions() if p.qty != 0}
    out = [
        Mismatch(c, ours.get(c, 0), theirs.get(c, 0))
        for c in sorted(set(ours) | set(theirs))
        if ours.get(c, 0) != theirs.get(c, 0)
    ]
    return out
