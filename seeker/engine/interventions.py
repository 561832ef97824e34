"""What the account and a person ask of one strategy, acted on in the strategy's own thread.

Each poll, after its positions were managed (exits keep firing whatever else happens):

* a person's ``seeker close POSITION_ID`` requests are closed (exit rule ``manual``);
* when the strategy must be flattened (``seeker flatten``, or an account limit whose action is
  ``flatten``) every open position is closed (exit rule ``flatten``) — through the normal
  execution ladder, limit orders from mid toward the natural; what does not fill is tried again
  at the next poll;
* entries are allowed only while nothing holds them: a RISK line says once when they stop
  (``entries_stopped``, with the reason), again when they stay stopped for another reason (its
  words change, not just its figures), and once when they resume (``entries_resumed``).
"""

from __future__ import annotations

from datetime import datetime

from seeker.core.broker import ConnectionState
from seeker.core.models import DataUnavailable
from seeker.core.positions import Position
from seeker.engine.account_watch import problem_kind
from seeker.engine.closing import Closer
from seeker.engine.context import StrategyContext
from seeker.engine.marks import Marks
from seeker.engine.signals import ExitSignal, PositionView
from seeker.engine.valuation import price_position

MANUAL_RULE = "manual"
"""The exit rule of a position closed by ``seeker close``."""
FLATTEN_RULE = "flatten"
"""The exit rule of a position closed by ``seeker flatten`` or a limit whose action is flatten."""


class Interventions:
    """Act on the account's and a person's requests for one strategy."""

    def __init__(self, ctx: StrategyContext, marks: Marks, closer: Closer) -> None:
        self.ctx = ctx
        self.marks = marks
        self.closer = closer
        self._stopped: str | None = None
        self._waiting: set[str] = set()
        """Positions whose close request was put back (said once in the journal)."""

    def entries_allowed(self) -> bool:
        """Return True when the strategy may open positions; journal when that changes.

        While the broker is disconnected the entry scanner stops entries itself and says so
        (``broker_disconnected``); the account is not asked then.
        """
        ctx = self.ctx
        if ctx.services.broker.connection_state() != ConnectionState.CONNECTED:
            return True
        reason = ctx.services.account.entry_block(ctx.name, ctx.shadow)
        kind = None if reason is None else problem_kind(reason)
        if kind != self._stopped:
            if reason is None:
                ctx.risk_line(None, "entries_resumed", "entries resume")
                ctx.emit(f"{ctx.name}: entries resume")
            else:  # stopped, or stopped now for another reason (its figures aside)
                ctx.risk_line(None, "entries_stopped", f"no new entry: {reason}")
                ctx.emit(f"{ctx.name}: no new entry ({reason})")
            self._stopped = kind
        return reason is None

    def act(self, now: datetime) -> None:
        """Close what a person asked for, then everything when the strategy must be flattened."""
        ctx = self.ctx
        account = ctx.services.account
        for request in account.take_closes(ctx.name):
            pos = ctx.book.positions.get(request.position_id)
            if pos is None or not pos.is_open:
                ctx.risk_line(
                    request.position_id,
                    MANUAL_RULE,
                    f"close asked by {request.by} not sent: the position is no longer open",
                )
                continue
            why = f"closed by {request.by}" + (f": {request.reason}" if request.reason else "")
            if self.close(pos, ExitSignal(MANUAL_RULE, pos.open_qty, why), now):
                self._waiting.discard(pos.position_id)
                continue
            if ctx.stop_requested():
                return  # the process stops: a request lives in memory only, like the command
            # not sent now (its market is closed, or it cannot be priced): asked again next poll
            account.request_close(ctx.name, pos.position_id, request.reason, request.by)
            if pos.position_id not in self._waiting:
                self._waiting.add(pos.position_id)
                ctx.risk_line(
                    pos.position_id,
                    MANUAL_RULE,
                    f"close asked by {request.by} waits: not sendable now "
                    f"({'market closed' if not ctx.in_rth(pos.listing_id) else 'not priced'}); "
                    "tried again at every poll",
                )
        reason = account.flatten_reason(ctx.name, ctx.shadow)
        if reason is None:
            return
        for pos in ctx.book.open_positions():
            if ctx.stop_requested():
                return
            if pos.pending_legs is not None:
                continue  # a partly filled roll: the manager closes the stranded units first
            if any(leg.contract.expiry < now.date() for leg in pos.legs):
                continue  # expired legs are settled, never closed
            self.close(pos, ExitSignal(FLATTEN_RULE, pos.open_qty, reason), now)

    def close(self, pos: Position, signal: ExitSignal, now: datetime) -> bool:
        """Close a position's units through the execution ladder (priced now); return False when
        nothing could be handed to the closer (stopping, its market closed, no price)."""
        ctx = self.ctx
        if ctx.stop_requested() or not ctx.in_rth(pos.listing_id):
            return False
        view = self.marks.views.get(pos.position_id)
        if view is None or view.now != now:
            view = self._priced(pos, now)
            if view is None:
                return False
        self.closer.close(pos, view, signal, now)
        return True

    def _priced(self, pos: Position, now: datetime) -> PositionView | None:
        try:
            view = price_position(self.ctx, pos, now)
        except DataUnavailable as exc:
            self.ctx.risk_line(
                pos.position_id, "data", f"cannot price the position to close it: {exc}"
            )
            return None
        self.marks.views[pos.position_id] = view
        return view
