"""Rolls: ONE combo order (intent ``roll``) that closes the legs a position drops and opens the
legs it adds, priced from fresh quotes along the usual ladder (mid → natural).

Before it is sent, the worst loss of the structure after the roll (the strategy's
``structure_worst_loss`` at the cumulative net debit, with every commission) must fit the risk the
position holds in the Risk Guard: a reservation never grows through a roll, so a roll that would
need more is refused (RISK ``roll_refused``) and the position is closed instead. A roll of several
units that fills for only some is all-or-nothing per unit: the remainder is cancelled and the units
left on the old legs are closed at once (rule ``roll_remainder``), so the position is again one
structure.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from seeker.core.execution import OrderPlan, combo_mid, combo_natural, price_ladder
from seeker.core.models import DataUnavailable
from seeker.core.positions import Position, leg_to_json
from seeker.engine.checklist import checked
from seeker.engine.closing import Closer
from seeker.engine.context import StrategyContext
from seeker.engine.signals import ExitSignal, PositionView
from seeker.engine.sizing import risk_of


class Roller:
    """Roll every open unit of a position in one combo order, or close it when it cannot be."""

    def __init__(self, ctx: StrategyContext, closer: Closer) -> None:
        self.ctx = ctx
        self.closer = closer

    def roll(self, pos: Position, view: PositionView, signal: ExitSignal, now: datetime) -> None:
        """Roll the position to ``signal.roll_to``; refuse (and close) when it cannot be done."""
        assert signal.roll_to is not None
        ctx = self.ctx
        working = self.closer.working_order(pos)
        if working is not None:
            ctx.risk_line(
                pos.position_id,
                signal.rule,
                f"roll not sent: {self.closer.still_working(working)}",
            )
            return
        cfg = ctx.settings
        new_legs = tuple(signal.roll_to)
        closing = tuple(leg.reversed() for leg in pos.legs if leg not in new_legs)
        opening = tuple(leg for leg in new_legs if leg not in pos.legs)
        legs = closing + opening
        qty = pos.open_qty

        def refuse(detail: str) -> None:
            ctx.risk_line(
                pos.position_id, "roll_refused", f"{detail}; closing the position instead"
            )
            reason = f"{signal.reason}; roll refused: {detail}"
            self.closer.close(pos, view, replace(signal, qty=qty, reason=reason, roll_to=None), now)

        if not closing or not opening:
            return refuse("the roll neither closes nor opens a leg")
        quotes = dict(view.quotes)
        try:
            fresh = ctx.services.broker.option_quotes([leg.contract for leg in opening])
            for leg in opening:
                q = fresh.get(leg.contract)
                if q is None:
                    raise DataUnavailable(f"no quote for {leg.contract.key}")
                problem = q.problem(now, cfg.liquidity.max_quote_age_seconds)
                if problem:
                    raise DataUnavailable(problem)
                quotes[leg.contract] = q
        except DataUnavailable as exc:
            return refuse(f"cannot price the new legs: {exc}")
        thin = []
        for leg in opening:
            q = quotes[leg.contract]
            if q.spread > cfg.liquidity.max_leg_spread + 1e-9:
                thin.append(f"{q.contract.key}: spread {q.spread:.2f}")
            if q.open_interest is None or q.open_interest < cfg.liquidity.min_open_interest:
                thin.append(f"{q.contract.key}: open interest {q.open_interest}")
        if thin:
            return refuse("liquidity: " + "; ".join(thin))
        ordered = [quotes[leg.contract] for leg in legs]
        mid, natural = combo_mid(legs, ordered), combo_natural(legs, ordered)
        bound = natural if signal.limit is None else min(natural, signal.limit)
        ladder = price_ladder(
            mid,
            natural,
            bound,
            cfg.execution.step_fraction,
            cfg.execution.max_steps,
            urgent=signal.urgent,
        )
        sched = ctx.services.commissions[pos.currency]
        held = ctx.guard.held(pos.position_id)
        try:
            worst = ctx.hooks.structure_worst_loss(
                new_legs, quotes, pos.entry_price + ladder[-1], now
            )
            paid = pos.commissions * qty / max(pos.opened_qty, 1)
            fees = paid + sched.combo(legs, qty) + sched.combo(new_legs, qty)
            max_loss = worst * pos.multiplier * qty + fees
            risk = ctx.services.to_capital(max_loss, pos.currency)
        except (DataUnavailable, ValueError) as exc:
            return refuse(f"cannot compute the worst loss after the roll: {exc}")
        if held is None or not math.isfinite(risk) or risk > held.risk + 1e-9:
            have = f"{held.risk:.2f} $" if held is not None else "no reservation"
            return refuse(
                f"the rolled position could lose {risk:.2f} $, more than the risk it holds ({have})"
            )
        plan = OrderPlan(
            position_id=pos.position_id,
            order_id=f"{pos.position_id}.{len(pos.orders) + 1}",
            intent="roll",
            listing_id=pos.listing_id,
            legs=legs,
            qty=qty,
            ladder=tuple(ladder),
            cancel_when_done=True,
            fields={
                **self.closer.exit_fields(
                    pos, view, signal, max_loss=max_loss, risk=risk, mid=mid, natural=natural
                ),
                "new_legs": [leg_to_json(leg) for leg in new_legs],
                "worst_loss_unit": round(worst, 4),
                "held_risk": round(held.risk, 4),
            },
        )
        if not checked(
            ctx,
            plan,
            natural=natural,
            in_rth=ctx.in_rth(pos.listing_id),
            risk_reserved=True,
            what="roll",
        ):
            return
        if self.closer.broker_check.refuses(pos, closing, qty, "roll"):
            return
        rolls = pos.rolls
        ctx.executor.work(plan)
        if pos.pending_legs is not None:
            self.closer.close_stranded(pos)
        elif pos.rolls > rolls:
            ctx.emit(
                f"{ctx.name}: rolled {pos.position_id}; legs now "
                + ", ".join(f"{leg.action} {leg.contract.key}" for leg in pos.legs)
            )
        if pos.open_qty > 0:
            ctx.guard.resize(pos.position_id, min(held.risk, risk_of(pos, pos.open_qty)))
