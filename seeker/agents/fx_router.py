"""FX Router (spec "Sélection USD/CAD"): pick the venue with the best net EV and convert cash.

Net EV of a venue = (expected credit − commissions − FX cost) / risk, every amount in the capital
currency at the USD.CAD mid; risk is what the Risk Guard reserves (capital currency). The FX cost
is the cost of the conversion the trade needs when the account does not hold enough of the venue's
currency: half the spread on the converted amount plus the IDEALPRO commission
(``commission_rate`` × traded USD, at least ``min_commission`` USD, charged in USD as IBKR and the
SimBroker do). The router only chooses among venues; whether the trade is worth it is the
strategy's call (a debit structure always has a negative EV).

A conversion is a limit order at the reference mid ± ``max_slippage_pips`` (spec: "slippage max
toléré ≤ 1 pip; au-delà, annuler"), so it fills at once within the tolerance or is rejected; in
the latter case the caller sends no option order. A venue whose conversion would slip more than the
tolerance (half the spread, in pips) or that the account cannot fund is left out; when no venue is
left, or the USD.CAD quote a venue needs is missing, NaN, crossed or stale, the verdict refuses.
The quote is only needed when a candidate is not in the capital currency or needs a conversion.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from seeker.agents.verdict import Verdict
from seeker.core.broker import Broker
from seeker.core.config_base import StrictModel
from seeker.core.models import PIP, Action, DataUnavailable, FxQuote, OrderStatus

PAIR = "USD.CAD"
"""The only pair Seeker converts through: base USD, quoted in CAD per USD."""
CURRENCIES = ("USD", "CAD")
LIMIT_DECIMALS = 5
"""Conversion limits are rounded to 0.00001 (a tenth of a pip), toward the mid."""
EPS = 1e-9
AGENT = "fx_router"


class FxConfig(StrictModel):
    """The ``[fx]`` table: cross-listings, IDEALPRO costs and the conversion limits."""

    max_slippage_pips: float = Field(gt=0.0)
    cross_listings: list[list[str]]
    commission_rate: float = Field(ge=0.0, le=0.01)
    min_commission: float = Field(ge=0.0)
    max_quote_age_seconds: float = Field(gt=0.0, le=86_400.0)
    conversion_buffer_pct: float = Field(ge=0.0, le=100.0)

    @field_validator("cross_listings")
    @classmethod
    def _pairs(cls, value: list[list[str]]) -> list[list[str]]:
        seen: set[str] = set()
        for i, pair in enumerate(value):
            if len(pair) != 2:
                raise ValueError(f"[{i}] must list exactly two listing ids, got {pair!r}")
            if any(not lid.strip() for lid in pair):
                raise ValueError(f"[{i}] holds an empty listing id")
            if pair[0] == pair[1]:
                raise ValueError(f"[{i}] pairs {pair[0]!r} with itself")
            for lid in pair:
                if lid in seen:
                    raise ValueError(f"{lid!r} appears in more than one pair")
                seen.add(lid)
        return value

    def venues_of(self, listing_id: str) -> tuple[str, ...]:
        """Return the listings of the same company: the cross-listed pair, or the listing alone."""
        for pair in self.cross_listings:
            if listing_id in pair:
                return (pair[0], pair[1])
        return (listing_id,)


@dataclass(frozen=True)
class VenueCandidate:
    """One venue a setup can trade on.

    ``expected_credit`` ($ venue currency, whole quantity; negative for a debit), ``commissions``
    ($ venue currency, round trip), ``risk`` ($ capital currency, what the Risk Guard reserves),
    ``cash_needed`` ($ venue currency: the margin or debit the trade needs in that currency).
    """

    listing_id: str
    currency: str
    expected_credit: float
    commissions: float
    risk: float
    cash_needed: float


@dataclass(frozen=True)
class ConversionPlan:
    """An IDEALPRO conversion that gives the account the venue currency it lacks.

    ``qty`` whole USD (the pair's base currency); BUY USD.CAD obtains USD, SELL obtains CAD.
    ``amount_short`` is what the account lacks, ``amount_target`` that plus the buffer (both in
    ``currency``); the qty yields at least ``amount_target`` even at the limit price and net of the
    commission. ``funding_amount`` is the most it takes from ``funding_currency`` (incl. the USD
    commission when selling USD). ``limit_price`` = mid ± max slippage, rounded toward the mid.
    ``expected_slippage_pips`` is half the spread; ``commission`` USD; ``cost`` the expected FX
    cost in ``cost_currency`` (the capital currency).
    """

    pair: str
    action: Action
    qty: int
    currency: str
    amount_short: float
    amount_target: float
    funding_currency: str
    funding_amount: float
    bid: float
    ask: float
    mid: float
    quote_ts: str
    limit_price: float
    expected_slippage_pips: float
    commission: float
    cost: float
    cost_currency: str

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as a journal-ready mapping."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversionPlan:
        """Rebuild a plan from :meth:`as_dict` (e.g. from a verdict's details)."""
        return cls(**dict(data))


def fx_quote_problem(quote: FxQuote, now: datetime, max_age_seconds: float) -> str | None:
    """Return why an FX quote cannot be used (missing, NaN, crossed, stale), or None."""
    if not (math.isfinite(quote.bid) and math.isfinite(quote.ask)):
        return f"{quote.pair} quote missing or NaN ({quote.bid}/{quote.ask})"
    if quote.bid <= 0.0 or quote.ask <= 0.0:
        return f"{quote.pair} quote has no price ({quote.bid}/{quote.ask})"
    if quote.bid > quote.ask:
        return f"{quote.pair} quote crossed ({quote.bid:.5f} > {quote.ask:.5f})"
    age = (now - quote.ts).total_seconds()
    if age > max_age_seconds:
        return f"{quote.pair} quote is {age:.0f} s old (max {max_age_seconds:.0f} s)"
    return None


def _floor(x: float) -> float:
    scale = 10**LIMIT_DECIMALS
    return math.floor(x * scale + EPS) / scale


def _ceil(x: float) -> float:
    scale = 10**LIMIT_DECIMALS
    return math.ceil(x * scale - EPS) / scale


class FxRouter:
    """Choose the venue by net EV, convert cash through IDEALPRO, track currency exposure.

    Thread-safe: the exposure and cash snapshot sit behind a lock; broker calls are the broker's.
    """

    def __init__(self, cfg: FxConfig, capital_currency: str, broker: Broker) -> None:
        if capital_currency not in CURRENCIES:
            raise ValueError(f"capital currency must be USD or CAD, got {capital_currency!r}")
        self.cfg = cfg
        self.capital_currency = capital_currency
        self.broker = broker
        self._lock = threading.Lock()
        self._risk: dict[str, float] = {}
        self._cash: dict[str, float] = {}

    # -- arithmetic ------------------------------------------------------------------------------
    def to_capital(self, amount: float, currency: str, quote: FxQuote | None) -> float:
        """Return `amount` of `currency` in the capital currency at the quote's mid."""
        if currency == self.capital_currency:
            return amount
        if currency not in CURRENCIES:
            raise DataUnavailable(f"no conversion from {currency} (only USD and CAD)")
        if quote is None:
            raise DataUnavailable(f"{PAIR} quote needed to value {currency}")
        return amount * quote.mid if currency == "USD" else amount / quote.mid

    def commission(self, usd: float) -> float:
        """Return the IDEALPRO commission (USD) of converting `usd` dollars."""
        return max(self.cfg.min_commission, self.cfg.commission_rate * usd)

    def fx_cost(
        self,
        currency: str,
        amount_needed: float,
        account_cash: Mapping[str, float],
        quote: FxQuote | None,
    ) -> tuple[float, ConversionPlan | None]:
        """Return the FX cost (capital currency) of holding `amount_needed` of `currency`, and plan.

        No cost and no plan when the account already holds enough. Otherwise the plan converts
        the shortfall plus ``conversion_buffer_pct``, in whole USD, sized at the limit price so
        that even the worst allowed fill covers it net of the commission; its cost is half the
        spread on the converted amount plus the commission, both at the mid.
        """
        if currency not in CURRENCIES:
            raise DataUnavailable(f"cannot convert into {currency} (only USD and CAD)")
        if not (math.isfinite(amount_needed) and amount_needed >= 0.0):
            raise DataUnavailable(f"cash needed in {currency} is not a number ({amount_needed})")
        held = account_cash.get(currency, 0.0)
        if not math.isfinite(held):
            raise DataUnavailable(f"{currency} cash balance unknown")
        if held >= amount_needed:
            return 0.0, None
        if quote is None:
            raise DataUnavailable(f"{PAIR} quote needed to convert into {currency}")
        mid = quote.mid
        half_spread = (quote.ask - quote.bid) / 2.0
        short = amount_needed - held
        target = short * (1.0 + self.cfg.conversion_buffer_pct / 100.0)
        slip = self.cfg.max_slippage_pips * PIP
        if currency == "CAD":
            action: Action = "SELL"
            limit = _ceil(mid - slip)
            qty = math.ceil(target / limit - EPS)
            commission = self.commission(qty)
            funding_ccy, funding = "USD", qty + commission
        else:
            action = "BUY"
            limit = _floor(mid + slip)
            qty = math.ceil(target + self.commission(target) - EPS)
            while qty - self.commission(qty) < target - EPS:
                qty += 1
            commission = self.commission(qty)
            funding_ccy, funding = "CAD", qty * limit
        cost = self.to_capital(half_spread * qty, "CAD", quote) + self.to_capital(
            commission, "USD", quote
        )
        plan = ConversionPlan(
            pair=PAIR,
            action=action,
            qty=qty,
            currency=currency,
            amount_short=short,
            amount_target=target,
            funding_currency=funding_ccy,
            funding_amount=funding,
            bid=quote.bid,
            ask=quote.ask,
            mid=mid,
            quote_ts=quote.ts.isoformat(),
            limit_price=limit,
            expected_slippage_pips=half_spread / PIP,
            commission=commission,
            cost=cost,
            cost_currency=self.capital_currency,
        )
        return cost, plan

    # -- venue choice ----------------------------------------------------------------------------
    def choose_venue(self, candidates: Sequence[VenueCandidate], now: datetime) -> Verdict:
        """Return the venue with the largest net EV, or a refusal naming what is missing.

        Details list every venue's EV terms (capital currency), the chosen ``listing_id`` and the
        ``conversion`` plan (a :meth:`ConversionPlan.as_dict`, None when none is needed).
        """
        if not candidates:
            return self._refuse("no venue to choose from", {})
        for c in candidates:
            problem = _candidate_problem(c)
            if problem:
                return self._refuse(f"{c.listing_id}: {problem}", {})
        try:
            account = self.broker.account()
        except DataUnavailable as exc:
            return self._refuse(f"account unavailable: {exc}", {})
        cash = dict(account.cash)
        with self._lock:
            self._cash = dict(cash)
        details: dict[str, Any] = {"capital_currency": self.capital_currency, "cash": cash}
        needs_quote = any(
            c.currency != self.capital_currency or cash.get(c.currency, 0.0) < c.cash_needed
            for c in candidates
        )
        quote: FxQuote | None = None
        if needs_quote:
            try:
                quote = self.broker.fx_quote(PAIR)
            except DataUnavailable as exc:
                return self._refuse(f"{PAIR} quote unavailable: {exc}", details)
            details["quote"] = {
                "pair": quote.pair,
                "bid": quote.bid,
                "ask": quote.ask,
                "ts": quote.ts.isoformat(),
                "age_seconds": (now - quote.ts).total_seconds(),
            }
            problem = fx_quote_problem(quote, now, self.cfg.max_quote_age_seconds)
            if problem:
                return self._refuse(problem, details)
        rows: list[dict[str, Any]] = []
        plans: dict[str, ConversionPlan | None] = {}
        best: tuple[float, VenueCandidate] | None = None
        try:
            for c in candidates:
                row, plan = self._evaluate(c, cash, quote)
                rows.append(row)
                plans[c.listing_id] = plan
                if row["excluded"] is None and (best is None or row["net_ev"] > best[0] + EPS):
                    best = (row["net_ev"], c)
        except DataUnavailable as exc:
            return self._refuse(str(exc), details)
        details["venues"] = rows
        if best is None:
            reasons = "; ".join(f"{r['listing_id']}: {r['excluded']}" for r in rows)
            return self._refuse(f"no venue can be funded: {reasons}", details)
        ev, chosen = best
        plan = plans[chosen.listing_id]
        details["chosen"] = chosen.listing_id
        details["conversion"] = plan.as_dict() if plan is not None else None
        reason = f"{chosen.listing_id} ({chosen.currency}) net EV {ev:.4f}"
        if len(candidates) > 1:
            others = ", ".join(
                f"{r['listing_id']} "
                + (f"{r['net_ev']:.4f}" if r["excluded"] is None else "excluded")
                for r in rows
                if r["listing_id"] != chosen.listing_id
            )
            reason += f" (vs {others})"
        if plan is not None:
            reason += f"; convert {plan.action} {plan.qty} {PAIR} at ≤ {plan.limit_price:.5f}"
        return Verdict(AGENT, True, reason, score=ev, details=details)

    def _evaluate(
        self, c: VenueCandidate, cash: Mapping[str, float], quote: FxQuote | None
    ) -> tuple[dict[str, Any], ConversionPlan | None]:
        credit = self.to_capital(c.expected_credit, c.currency, quote)
        commissions = self.to_capital(c.commissions, c.currency, quote)
        fx_cost, plan = self.fx_cost(c.currency, c.cash_needed, cash, quote)
        ev = (credit - commissions - fx_cost) / c.risk
        excluded: str | None = None
        if plan is not None:
            max_slip = self.cfg.max_slippage_pips
            held = cash.get(plan.funding_currency, 0.0)
            if plan.expected_slippage_pips > max_slip + EPS:
                excluded = (
                    f"{PAIR} conversion slippage {plan.expected_slippage_pips:.2f} pip "
                    f"> max {max_slip:g} pip"
                )
            elif not (math.isfinite(held) and held >= plan.funding_amount):
                excluded = (
                    f"the conversion needs {plan.funding_amount:.2f} {plan.funding_currency}, "
                    f"the account holds {held:.2f}"
                )
        row = {
            "listing_id": c.listing_id,
            "currency": c.currency,
            "expected_credit": c.expected_credit,
            "commissions": c.commissions,
            "risk": c.risk,
            "cash_needed": c.cash_needed,
            "credit_capital": credit,
            "commissions_capital": commissions,
            "fx_cost_capital": fx_cost,
            "net_ev": ev,
            "conversion": plan.as_dict() if plan is not None else None,
            "excluded": excluded,
        }
        return row, plan

    # -- conversion ------------------------------------------------------------------------------
    def convert(self, plan: ConversionPlan, order_ref: str) -> Verdict:
        """Send the planned IDEALPRO conversion; allowed only when it filled entirely.

        The limit is the plan's (reference mid ± max slippage), so a fill is never worse than the
        tolerance; a rejection or an incomplete fill refuses, and the caller sends no option order.
        Details: limit, fill price, slippage in pips vs the mid (positive = against us),
        commission, order id and status.
        """
        details: dict[str, Any] = {
            "pair": plan.pair,
            "action": plan.action,
            "qty": plan.qty,
            "limit_price": plan.limit_price,
            "mid": plan.mid,
            "order_ref": order_ref,
        }
        if plan.qty <= 0:
            return self._refuse("conversion of a non-positive quantity; no order", details)
        try:
            state = self.broker.place_fx_order(
                plan.pair, plan.action, plan.qty, plan.limit_price, order_ref
            )
        except DataUnavailable as exc:
            return self._refuse(f"{plan.pair} conversion not sent ({exc}); no order", details)
        fill_price = state.avg_fill_price
        sign = 1.0 if plan.action == "BUY" else -1.0
        slippage = sign * (fill_price - plan.mid) / PIP if state.fills else math.nan
        details.update(
            {
                "order_id": state.order_id,
                "status": str(state.status),
                "filled": state.filled,
                "fill_price": fill_price,
                "slippage_pips": slippage,
                "commission": sum(f.commission for f in state.fills),
                "commission_currency": state.fills[0].commission_currency if state.fills else None,
                "broker_reason": state.reason,
            }
        )
        if state.status != OrderStatus.FILLED or state.filled != plan.qty:
            why = state.reason or str(state.status)
            return self._refuse(
                f"{plan.pair} {plan.action} {plan.qty} at ≤ {plan.limit_price:.5f} not filled "
                f"({why}, filled {state.filled}); no order",
                details,
            )
        self.refresh_cash()
        return Verdict(
            AGENT,
            True,
            f"{plan.pair} {plan.action} {plan.qty} filled at {fill_price:.5f} "
            f"({slippage:.2f} pip vs mid)",
            score=slippage,
            details=details,
        )

    # -- exposure --------------------------------------------------------------------------------
    def record(self, currency: str, risk_delta: float) -> None:
        """Add (> 0) or release (< 0) committed risk ($ capital currency) in `currency`."""
        if not math.isfinite(risk_delta):
            raise ValueError(f"risk change must be a number, got {risk_delta}")
        with self._lock:
            total = self._risk.get(currency, 0.0) + risk_delta
            if total < -1e-6:
                raise ValueError(f"releasing {-risk_delta:.2f} leaves negative risk in {currency}")
            self._risk[currency] = max(0.0, total)

    def exposure(self) -> dict[str, float]:
        """Return committed risk per venue currency ($ capital currency)."""
        with self._lock:
            return dict(self._risk)

    def cash(self) -> dict[str, float]:
        """Return cash per currency from the last account snapshot the router read."""
        with self._lock:
            return dict(self._cash)

    def refresh_cash(self) -> dict[str, float]:
        """Read the account again and return its cash per currency (the last one if unavailable)."""
        try:
            snapshot = dict(self.broker.account().cash)
        except DataUnavailable:
            return self.cash()
        with self._lock:
            self._cash = snapshot
        return dict(snapshot)

    def _refuse(self, reason: str, details: Mapping[str, Any]) -> Verdict:
        return Verdict(AGENT, False, reason, details=dict(details))


def _candidate_problem(c: VenueCandidate) -> str | None:
    if c.currency not in CURRENCIES:
        return f"currency {c.currency!r} not supported (only USD and CAD)"
    for name in ("expected_credit", "commissions", "risk", "cash_needed"):
        if not math.isfinite(getattr(c, name)):
            return f"{name} unknown"
    if c.risk <= 0.0:
        return f"risk must be positive, got {c.risk}"
    if c.commissions < 0.0 or c.cash_needed < 0.0:
        return "commissions and cash needed must be >= 0"
    return None
