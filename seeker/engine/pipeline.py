"""The entry pipeline for one underlying: propose → critique → veto → execute.

Regime → Selection (does this strategy fit today's regime?) → Generator (the strategy's scanner:
1–3 setups) → Critic / Stress → FX Router (the venue with the best net EV) → hard vetoes: quotes
fresh, Event Risk, Liquidity (with the slippage the ladder may concede), Risk Guard (check and
reserve in one step; the account's cash is checked with the caps: ``blocked_by: "account"``), FX
conversion when the account lacks the currency → checklist → Execution.
Every setup considered ends in one DECISION line; missing data anywhere is ``blocked_by: "data"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from seeker.agents.critic import critique_many, rank
from seeker.agents.fx_router import VenueCandidate
from seeker.agents.liquidity import check_liquidity
from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.execution import OrderPlan, price_ladder
from seeker.core.models import Chain, DataUnavailable, Listing, order_ref
from seeker.core.structures import Setup
from seeker.engine.checklist import checked
from seeker.engine.context import StrategyContext
from seeker.engine.decisions import DecisionLog
from seeker.engine.ids import IdSequence
from seeker.engine.sizing import max_loss_by_qty, risk_of


@dataclass(frozen=True)
class Venue:
    """One listing of an underlying that passed regime, generator and critic."""

    listing: Listing
    regime: Regime
    fit: Verdict
    survivors: list[tuple[Setup, Verdict]]
    chain: Chain


class EntryPipeline:
    """Take one underlying (all its venues) from regime to an order, or to a refusal."""

    def __init__(self, ctx: StrategyContext, decisions: DecisionLog, ids: IdSequence) -> None:
        self.ctx = ctx
        self.decisions = decisions
        self.ids = ids
        self.regime_refused: dict[str, date] = {}
        """Listings (and companies) the regime refused today: not scanned again until tomorrow."""
        self._clusters_day: date | None = None
        self._clusters_problem: str | None = None
        self._event_verdicts: dict[tuple[str, datetime, date], Verdict] = {}
        """Event Risk's verdicts of the current scan (setups of a listing often share an expiry)."""

    def consider(self, venues: list[Listing], now: datetime) -> None:
        """Regime → Generator → Critic for each venue, then the FX router picks the venue."""
        ctx = self.ctx
        decide = self.decisions.decide
        self._event_verdicts.clear()
        self.refresh_clusters(now)
        blocked = ctx.services.blocked_underlyings.get(venues[0].symbol)
        if blocked:
            decide(now, venues[0], None, [], "no_trade", "risk_guard", blocked)
            return
        today = now.date()
        ready: list[Venue] = []
        for listing in venues:
            try:
                regime = ctx.services.regime(listing.listing_id)
            except DataUnavailable as exc:
                decide(now, listing, None, [], "no_trade", "regime", f"no regime: {exc}")
                self.regime_refused[listing.listing_id] = today
                continue
            fit = ctx.hooks.regime_fit(regime)
            if not fit.allowed:
                decide(now, listing, None, [fit], "no_trade", "regime", fit.reason, regime=regime)
                self.regime_refused[listing.listing_id] = today
                continue
            try:
                chain = self.chain(listing, today)
            except DataUnavailable as exc:
                decide(now, listing, None, [fit], "no_trade", "data", str(exc), regime=regime)
                continue
            setups, note = ctx.hooks.scan(listing, chain, today, regime, fit)
            if not setups:
                reason = f"no setup meets the entry rules: {note}"
                decide(
                    now,
                    listing,
                    None,
                    [fit],
                    "no_trade",
                    "generator",
                    reason,
                    chain=chain,
                    regime=regime,
                )
                continue
            scored = list(zip(setups, self.critique(setups, listing, now), strict=True))
            survivors = rank(scored)
            if not survivors:
                setup, worst = max(scored, key=lambda sv: sv[1].score or 0.0)
                by = "data" if worst.details.get("missing_data") else "critic"
                reason = f"{len(scored)} setup(s), none survives the stress tests: {worst.reason}"
                decide(now, listing, setup, [fit, worst], "no_trade", by, reason, regime=regime)
                continue
            ready.append(Venue(listing, regime, fit, survivors, chain))
        if not ready:
            if all(self.regime_refused.get(v.listing_id) == today for v in venues):
                self.regime_refused[venues[0].symbol] = today
            return
        for venue, fx_verdict in self.route(ready, now):
            for setup, critic in venue.survivors:
                if ctx.stop_requested():
                    return
                if self.evaluate(setup, venue, critic, fx_verdict, now):
                    return

    def refresh_clusters(self, now: datetime) -> None:
        """Hand today's correlation clusters to the Risk Guard (once a day; missing → refuse)."""
        day = now.date()
        if self._clusters_day == day:
            if self._clusters_problem:
                raise DataUnavailable(self._clusters_problem)
            return
        self._clusters_day = day
        try:
            clusters = self.ctx.services.clusters.clusters(day)
        except DataUnavailable as exc:
            self._clusters_problem = f"correlation clusters unavailable: {exc}"
            raise DataUnavailable(self._clusters_problem) from None
        self._clusters_problem = None
        self.ctx.guard.set_clusters(clusters)

    def chain(self, listing: Listing, today: date) -> Chain:
        """Return the chain the scanner needs: its expiries, strikes around the money."""
        ctx = self.ctx
        broker = ctx.services.broker
        und = broker.underlying_quote(listing.listing_id)
        if not (math.isfinite(und.mid) and 0 < und.bid <= und.ask):
            raise DataUnavailable(f"{listing.listing_id}: underlying quote unusable")
        expiries = ctx.hooks.wanted_expiries(broker.expiries(listing.listing_id), today)
        if not expiries:
            raise DataUnavailable("no listed expiry in the strategy's DTE window")
        iv = float(ctx.services.history(listing.listing_id, 1).iv[-1])
        if not (math.isfinite(iv) and iv > 0):
            raise DataUnavailable(f"{listing.listing_id}: no implied volatility to size the chain")
        strikes = ctx.hooks.strike_window(und.mid, iv, expiries, today)
        return broker.option_chain(listing.listing_id, expiries, strikes)

    def critique(self, setups: list[Setup], listing: Listing, now: datetime) -> list[Verdict]:
        """Return the Critic's verdict on each setup of one listing (stress tests, score)."""
        ctx = self.ctx
        sched = ctx.services.commissions[listing.currency]
        return critique_many(
            setups,
            rate=ctx.settings.rates[listing.currency],
            dividend_yield=listing.dividend_yield,
            now=now,
            manage_dte=int(ctx.hooks.manage_dte),
            round_trip_commissions_per_unit=[
                sched.round_trip(setup.legs, 1) / listing.multiplier for setup in setups
            ],
            multiplier=listing.multiplier,
            cfg=ctx.hooks.critic_config(),
        )

    def candidate(self, venue: Venue) -> VenueCandidate:
        """Return what the FX Router weighs for one venue (its best setup)."""
        ctx = self.ctx
        setup = venue.survivors[0][0]
        listing = venue.listing
        qty = int(ctx.config.quantity)
        sched = ctx.services.commissions[listing.currency]
        max_loss = max_loss_by_qty(ctx, setup, listing, setup.mid)[qty - 1]
        return VenueCandidate(
            listing_id=listing.listing_id,
            currency=listing.currency,
            expected_credit=-setup.mid * listing.multiplier * qty,
            commissions=sched.round_trip(setup.legs, qty),
            risk=ctx.services.to_capital(max_loss, listing.currency),
            cash_needed=max_loss,
        )

    def route(self, ready: list[Venue], now: datetime) -> list[tuple[Venue, Verdict]]:
        """Return the venues in the FX router's order (best net EV first), each with its verdict."""
        router = self.ctx.services.fx_router
        router.refresh_cash()
        verdict = router.choose_venue([self.candidate(v) for v in ready], now)
        if not verdict.allowed:
            first = ready[0]
            self.decisions.decide(
                now,
                first.listing,
                first.survivors[0][0],
                [first.fit, first.survivors[0][1], verdict],
                "no_trade",
                "fx_router",
                verdict.reason,
                regime=first.regime,
            )
            return []
        chosen = verdict.details.get("chosen")
        ordered = sorted(ready, key=lambda v: v.listing.listing_id != chosen)
        out = [(ordered[0], verdict)]
        for other in ordered[1:]:
            alone = router.choose_venue([self.candidate(other)], now)
            if alone.allowed:
                out.append((other, alone))
        return out

    def event_verdict(self, listing: Listing, now: datetime, last_expiry: date) -> Verdict:
        """Return Event Risk's verdict on an opening, asked once per listing, time and last expiry
        within a scan (it reads only them and the loaded, unchanging event calendar)."""
        key = (listing.listing_id, now, last_expiry)
        verdict = self._event_verdicts.get(key)
        if verdict is None:
            verdict = self.ctx.services.event_risk.entry_verdict(listing, now, last_expiry)
            self._event_verdicts[key] = verdict
        return verdict

    def evaluate(
        self,
        setup: Setup,
        venue: Venue,
        critic_verdict: Verdict,
        fx_verdict: Verdict,
        now: datetime,
    ) -> bool:
        """Run one setup through the hard vetoes; send it if all pass. Return True if sent."""
        ctx = self.ctx
        listing = venue.listing
        cfg = ctx.settings
        verdicts: list[Verdict] = [venue.fit, critic_verdict, fx_verdict]

        def refuse(by: str, reason: str) -> bool:
            self.decisions.decide(
                now, listing, setup, verdicts, "no_trade", by, reason, regime=venue.regime
            )
            return False

        problems = [
            p for q in setup.quotes if (p := q.problem(now, cfg.liquidity.max_quote_age_seconds))
        ]
        if problems:
            return refuse("data", "; ".join(problems))
        event = self.event_verdict(listing, now, max(leg.contract.expiry for leg in setup.legs))
        verdicts.append(event)
        if not event.allowed:
            return refuse(
                "data" if event.details.get("missing_data") else "event_risk", event.reason
            )
        max_qty = int(ctx.config.quantity)
        factor = event.details.get("qty_factor")
        if factor is not None:
            max_qty = math.floor(max_qty * float(factor))
            if max_qty < 1:
                return refuse("event_risk", f"{event.reason}; the reduced size rounds to 0 units")
        bound = ctx.hooks.entry_bound(setup)
        ladder = price_ladder(
            setup.mid,
            setup.natural,
            bound,
            cfg.execution.step_fraction,
            cfg.execution.max_steps,
            urgent=False,
        )
        slippage_pct = 100.0 * (ladder[-1] - setup.mid) / max(abs(setup.mid), 0.01)
        liq = check_liquidity(
            setup.quotes,
            venue.chain.chain_volume,
            cfg.liquidity.max_leg_spread,
            cfg.liquidity.min_open_interest,
            cfg.liquidity.min_chain_volume,
            slippage_pct=slippage_pct,
            max_slippage_pct=cfg.liquidity.max_slippage_pct,
        )
        verdicts.append(liq)
        if not liq.allowed:
            return refuse("data" if liq.details.get("missing_data") else "liquidity", liq.reason)
        if ladder[0] > bound + 1e-9:
            return refuse(
                "generator", f"mid {setup.mid:+.2f} is worse than the limit bound {bound:+.2f}"
            )
        max_loss_by = max_loss_by_qty(ctx, setup, listing, ladder[-1])[:max_qty]
        risk_by_qty = [ctx.services.to_capital(m, listing.currency) for m in max_loss_by]
        try:  # an opening needs the cash to carry its max loss (real trading only)
            cash = None if ctx.shadow else ctx.services.account.cash_for_risk(now)
        except DataUnavailable as exc:
            return refuse("account", f"the account's cash is unknown: {exc}")
        pid = self.ids.position_id(now, commit=False)
        if not ctx.shadow:  # a margin account: the broker's what-if must carry the order
            problem = ctx.services.account.margin_problem(
                ctx.name, pid, listing.listing_id, setup.legs, max_qty, ladder[-1]
            )
            if problem:
                return refuse("account", problem)
        verdict, qty = ctx.guard.reserve(
            pid, ctx.name, listing.listing_id, listing.symbol, listing.sector, risk_by_qty, cash
        )
        verdicts.append(verdict)
        if not verdict.allowed:
            return refuse(verdict.agent, verdict.reason)
        pid = self.ids.position_id(now, commit=True)
        max_loss, risk = max_loss_by[qty - 1], risk_by_qty[qty - 1]
        conversion = self.convert(listing, pid, max_loss)
        if conversion is not None:
            verdicts.append(conversion)
            if not conversion.allowed:
                ctx.guard.release(pid)
                return refuse("fx_router", conversion.reason)
        self.decisions.decide(
            now,
            listing,
            setup,
            verdicts,
            "order",
            None,
            f"all vetoes passed; sending {qty} unit(s)",
            position_id=pid,
            regime=venue.regime,
        )
        plan = OrderPlan(
            position_id=pid,
            order_id=f"{pid}.1",
            intent="open",
            listing_id=listing.listing_id,
            legs=setup.legs,
            qty=qty,
            ladder=tuple(ladder),
            cancel_when_done=True,
            fields={
                "max_loss": round(max_loss, 2),
                "risk": round(risk, 4),
                "risk_currency": cfg.account.capital_currency,
                "sector": listing.sector,
                "cluster": str(verdict.details.get("cluster")),
                "currency": listing.currency,
                "symbol": listing.symbol,
                "multiplier": listing.multiplier,
                "reason": setup.label,
                "mid": round(setup.mid, 4),
                "natural": round(setup.natural, 4),
                "meta": {
                    "kind": setup.kind,
                    "label": setup.label,
                    "dte": setup.dte,
                    "regime": venue.regime.summary(),
                    "regime_labels": venue.regime.labels(),
                    "critic_score": critic_verdict.score,
                    **dict(setup.features),
                },
            },
        )
        if not checked(
            ctx,
            plan,
            natural=setup.natural,
            in_rth=ctx.in_rth(listing.listing_id),
            risk_reserved=ctx.guard.held(pid) is not None,
            what="entry",
        ):
            ctx.guard.release(pid)
            return False
        self.decisions.flush()
        ctx.executor.work(plan)
        self.settle_sent(plan)
        return True

    def settle_sent(self, plan: OrderPlan) -> None:
        """Hold exactly the risk an opening order handed to Execution still needs.

        Released when nothing filled, shrunk to the units that filled — unless the order may still
        work at the broker (unconfirmed, or its cancel not confirmed): then all of it stays held
        until the broker's truth resolves the order (``seeker.engine.adoption``).
        """
        ctx = self.ctx
        pid = plan.position_id
        if plan.order_id in ctx.book.working_orders():
            return  # maybe working at the broker: its risk stays held until it is resolved
        pos = ctx.book.positions.get(pid)
        if pos is None or pos.opened_qty == 0:
            ctx.guard.release(pid)
        elif pos.open_qty < plan.qty:
            ctx.guard.resize(pid, risk_of(pos, pos.open_qty))

    def convert(self, listing: Listing, pid: str, amount: float) -> Verdict | None:
        """Convert currency through the FX router when the account lacks `amount` of it."""
        ctx = self.ctx
        router = ctx.services.fx_router
        if listing.currency == ctx.settings.account.capital_currency and not ctx.shadow:
            cash = router.cash().get(listing.currency, 0.0)
            if cash >= amount:
                return None
        quote = ctx.services.broker.fx_quote("USD.CAD")
        _cost, plan = router.fx_cost(listing.currency, amount, router.cash(), quote)
        if plan is None:
            return None
        if ctx.shadow:
            return Verdict(
                "fx_router", True, "shadow: the conversion would be sent", details=plan.as_dict()
            )
        verdict = router.convert(plan, order_ref(ctx.name, pid, "fx"))
        ctx.journal.write(
            "RISK",
            strategy=ctx.name,
            position_id=pid,
            rule="fx_conversion",
            detail=verdict.reason,
            conversion=dict(verdict.details),
        )
        router.refresh_cash()
        return verdict
