"""IBKR's what-if: the margin a combo order would need, asked without placing it.

``IB.whatIfOrder`` sends the order with ``whatIf`` set; TWS answers with an ``OrderState`` whose
``…After`` fields are the account's initial and maintenance margin and equity with loan were the
order filled (strings; IB's "unset" when it has no figure). Nothing is placed.
"""

from __future__ import annotations

import math

from ib_async import LimitOrder
from ib_async.order import OrderState as IbOrderState

from seeker.core.ibkr.contracts import COMBO_TICK, bag_contract, floor_to_tick
from seeker.core.ibkr.link import IbLink
from seeker.core.ibkr.market import MarketData
from seeker.core.margin import MarginImpact
from seeker.core.models import ComboOrder, DataUnavailable

UNSET = 1.7976931348623157e308
"""IB's "no value" for a double."""


def _number(text: str | float, what: str, order_ref: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise DataUnavailable(f"IB's what-if for {order_ref} has no {what} ({text!r})") from None
    if not math.isfinite(value) or value >= UNSET:
        raise DataUnavailable(f"IB's what-if for {order_ref} has no {what}")
    return value


async def what_if_combo(
    link: IbLink, market: MarketData, account: str, order: ComboOrder
) -> MarginImpact:
    """Return the margin impact of a combo order (nothing is placed); DataUnavailable if IB
    gives no figures."""
    listing = market.listing(order.listing_id)
    resolved = await market.resolve_options([leg.contract for leg in order.legs])
    missing = [leg.contract.key for leg in order.legs if leg.contract not in resolved]
    if missing:
        raise DataUnavailable("no such contract at IB: " + ", ".join(missing))
    bag = bag_contract(listing, [(resolved[leg.contract].conId, leg) for leg in order.legs])
    limit = floor_to_tick(order.limit_price, COMBO_TICK)
    ib_order = LimitOrder(
        "BUY", order.qty, limit, orderRef=order.order_ref, tif="DAY", account=account
    )
    await link.send(1)
    state = await link.ib().whatIfOrderAsync(bag, ib_order)
    if not isinstance(state, IbOrderState):
        raise DataUnavailable(f"IB gave no what-if margin for {order.order_ref}")
    ref = order.order_ref
    commission = state.commission if state.commission < UNSET else None
    return MarginImpact(
        currency=state.commissionCurrency or listing.currency,
        equity_with_loan_after=_number(state.equityWithLoanAfter, "equity with loan", ref),
        init_margin_after=_number(state.initMarginAfter, "initial margin", ref),
        maint_margin_after=_number(state.maintMarginAfter, "maintenance margin", ref),
        init_margin_change=_number(state.initMarginChange, "initial margin change", ref),
        commission=commission,
        warning=state.warningText or "",
    )
