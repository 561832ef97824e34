"""Management of open positions, each poll: price, score, then act on the exit that fires.

Per position: fresh quotes (a missing or stale one is a RISK ``data`` line and no action), the
confidence score (a CONFIDENCE line), then the exit to take — the strategy's urgent exits first,
then the Event Risk rule for open positions (close, or reduce by ``events.reduce_fraction``), then
the strategy's other exits — and the close or roll through Execution. Expired positions go to
settlement instead.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from seeker.agents.confidence import Confidence, ConfidenceInputs, confidence
from seeker.core.models import DataUnavailable, Listing
from seeker.core.positions import Position
from seeker.engine.closing import Closer
from seeker.engine.context import StrategyContext
from seeker.engine.marks import Marks
from seeker.engine.roll import Roller
from seeker.engine.settlement import Settlement
from seeker.engine.signals import ExitSignal, PositionView
from seeker.engine.valuation import price_position


class PositionManager:
    """Manage a strategy's open positions once per poll."""

    def __init__(
        self,
        ctx: StrategyContext,
        marks: Marks,
        closer: Closer,
        roller: Roller,
        settlement: Settlement,
    ) -> None:
        self.ctx = ctx
        self.marks = marks
        self.closer = closer
        self.roller = roller
        self.settlement = settlement
        self._noted: dict[str, str] = {}

    def manage(self, now: datetime) -> None:
        """Price every open position, journal its confidence, then act on the exit that fires."""
        ctx = self.ctx
        actions: list[tuple[Position, PositionView, ExitSignal]] = []
        lines: list[dict[str, Any]] = []
        for pos in ctx.book.open_positions():
            listing = ctx.services.listings[pos.listing_id]
            if not ctx.services.calendars.is_open(listing.calendar, now):
                continue
            if any(leg.contract.expiry < now.date() for leg in pos.legs):
                lines.extend(self.settlement.settle_expired(pos, now))
                continue
            try:
                view = price_position(ctx, pos, now)
            except DataUnavailable as exc:
                lines.append(
                    ctx.journal.record(
                        "RISK",
                        strategy=ctx.name,
                        position_id=pos.position_id,
                        rule="data",
                        detail=f"cannot price the position: {exc}",
                    )
                )
                continue
            pos.mark(view.pnl_unit)
            self.marks.views[pos.position_id] = view
            score = self.confidence(pos, view, listing, now)
            self.marks.confidence[pos.position_id] = score
            lines.append(
                ctx.journal.record(
                    "CONFIDENCE",
                    strategy=ctx.name,
                    position_id=pos.position_id,
                    underlying=pos.listing_id,
                    pnl_unit=round(view.pnl_unit, 4),
                    dte=view.dte,
                    spot=round(view.spot, 4),
                    **score.as_dict(),
                )
            )
            if pos.pending_legs is not None:
                signal: ExitSignal | None = ExitSignal(
                    "roll_remainder",
                    pos.stranded_qty,
                    f"{pos.stranded_qty} unit(s) left on the old legs by a partly filled roll",
                    urgent=True,
                )
            else:
                signal = self.exit_for(pos, view, listing, now)
            if signal is not None:
                actions.append((pos, view, signal))
        ctx.journal.write_many(lines)
        for pos, view, signal in actions:
            if ctx.stop_requested():
                return
            if signal.roll_to is not None and pos.pending_legs is None:
                self.roller.roll(pos, view, signal, now)
            else:
                self.closer.close(pos, view, signal, now)

    def exit_for(
        self, pos: Position, view: PositionView, listing: Listing, now: datetime
    ) -> ExitSignal | None:
        """Return the exit to take: the strategy's urgent ones, then event risk, then the rest."""
        ctx = self.ctx
        signal = ctx.hooks.exit_signal(view)
        if signal is not None and signal.urgent:
            return signal
        try:
            action = ctx.services.event_risk.position_action(listing, now, pos.expiry)
        except DataUnavailable:
            action = None
        if action is not None:
            kind, reason = action
            if kind == "close":
                return ExitSignal("event_close", pos.open_qty, reason)
            if kind == "reduce" and not pos.reduced:
                share = float(ctx.settings.events.reduce_fraction)
                units = math.floor(pos.open_qty * share)
                if units >= 1:
                    return ExitSignal("event_reduce", units, reason)
                if self._noted.get(pos.position_id) != reason:
                    self._noted[pos.position_id] = reason
                    ctx.risk_line(
                        pos.position_id,
                        "event_hold",
                        f"{reason}; {pos.open_qty} unit(s) × {share:g} rounds to 0: held",
                    )
        return signal

    def confidence(
        self, pos: Position, view: PositionView, listing: Listing, now: datetime
    ) -> Confidence:
        """Return the position's confidence score; unknown inputs lower it and say so."""
        ctx = self.ctx
        shorts = [leg for leg in pos.legs if leg.action == "SELL"]
        try:
            regime = ctx.services.regime(pos.listing_id)
            atr, ivr = regime.atr, regime.iv_rank
        except DataUnavailable:
            atr, ivr = math.nan, math.nan
        self.marks.iv_rank[pos.listing_id] = ivr if math.isfinite(ivr) else None
        try:
            nearest = ctx.services.event_risk.next_event(listing, now)
        except DataUnavailable:
            nearest = None
        gamma = sum(leg.sign * leg.ratio * view.quote(leg.contract).gamma for leg in pos.legs)
        inputs = ConfidenceInputs(
            dte=view.dte,
            short_deltas=tuple(abs(view.quote(leg.contract).delta) for leg in shorts),
            spot=view.spot,
            short_strikes=tuple(leg.contract.strike for leg in shorts),
            atr=atr if math.isfinite(atr) and atr >= 0 else math.nan,
            iv_rank=ivr if math.isfinite(ivr) else math.nan,
            aligned_with_high_ivr=ctx.hooks.sells_premium,
            pnl_unit=view.pnl_unit,
            credit=pos.credit,
            position_gamma=gamma,
            multiplier=pos.multiplier,
            max_loss=pos.max_loss_unit,
            next_event=(nearest[0].kind, nearest[1]) if nearest else None,
            manage_dte=int(ctx.hooks.manage_dte),
        )
        return confidence(inputs, ctx.settings.confidence)
