"""What the account and a person ask of one strategy, acted on in the strategy's own thread.

Each poll, after its positions were managed (exits keep firing whatever else happens):

* a person's ``seeker close POSITION_ID`` requests are closed (exit rule ``manual``); a request
  that cannot be sent now — its market is closed, it cannot be priced, or another order of the
  position may still work at the broker (no second order is sent while one may) — waits: it is
  asked again at every poll and one RISK line says why it waits; it ends when its close is sent,
  refused (the checklist, the broker check: journaled there), or the position is no longer open;
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
from seeker.engine.closing import CloseOutcome, Closer
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
        self._reason: str | None = None
        """The last reason entries were stopped for (its kind is `_reason_kind`)."""
        self._reason_kind: str | None = None
        self._waiting: dict[str, str] = {}
        """Positions whose close request was put back → why (said once per why in the journal)."""

    def entries_allowed(self) -> bool:
        """Return True when the strategy may open positions; journal when that changes.

        While the broker is disconnected the entry scanner stops entries itself and says so
        (``broker_disconnected``); the account is not asked then.
        """
        ctx = self.ctx
        if ctx.services.broker.connection_state() != ConnectionState.CONNECTED:
            return True
        reason = ctx.services.account.entry_block(ctx.name, ctx.shadow)
        if reason != self._reason:  # the same words every poll while stopped: one regex
            self._reason = reason
            self._reason_kind = None if reason is None else problem_kind(reason)
        kind = self._reason_kind
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
            signal = ExitSignal(MANUAL_RULE, pos.open_qty, why)
            outcome = self.close(pos, signal, now, say_working=False)
            if outcome in (CloseOutcome.SENT, CloseOutcome.REFUSED):
                self._waiting.pop(pos.position_id, None)
                continue
            if ctx.stop_requested():
                return  # the process stops: a request lives in memory only, like the command
            # not sent now: asked again next poll (no second order while one may still work)
            account.request_close(ctx.name, pos.position_id, request.reason, request.by)
            if outcome is CloseOutcome.WORKING:
                kind = "working"
                working = self.closer.working_order(pos)  # the one that kept it (same thread)
                waits = (
                    self.closer.still_working(working)
                    if working is not None
                    else "an order of this position may still work at the broker"
                ) + "; no second close is sent while it may"
            else:
                kind = "not_sendable"
                market = "market closed" if not ctx.in_rth(pos.listing_id) else "not priced"
                waits = f"not sendable now ({market})"
            if self._waiting.get(pos.position_id) != kind:
                self._waiting[pos.position_id] = kind
                ctx.risk_line(
                    pos.position_id,
                    MANUAL_RULE,
                    f"close asked by {request.by} waits: {waits}; tried again at every poll",
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

    def close(
        self, pos: Position, signal: ExitSignal, now: datetime, *, say_working: bool = True
    ) -> CloseOutcome | None:
        """Close a position's units through the execution ladder (priced now).

        Return the closer's outcome (:class:`~seeker.engine.closing.CloseOutcome`: sent, an order
        of the position may still work, refused), or None when nothing could be handed to the
        closer (stopping, its market closed, no price). `say_working` goes to the closer.
        """
        ctx = self.ctx
        if ctx.stop_requested() or not ctx.in_rth(pos.listing_id):
            return None
        view = self.marks.views.get(pos.position_id)
        if view is None or view.now != now:
            view = self._priced(pos, now)
            if view is None:
                return None
        return self.closer.close(pos, view, signal, now, say_working=say_working)

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
