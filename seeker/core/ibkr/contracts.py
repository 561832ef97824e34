"""Seeker listings, options and FX pairs as ib_async contracts, and back.

* US listing: ``Stock(symbol, "SMART", currency, primaryExchange=exchange)``; its options trade
  SMART. Canadian listing (currency CAD, exchange TSE/TSX): stock primary exchange TSE, options on
  the Montreal exchange, ``CDE``.
* Combos are BAG contracts built from the legs' conIds (never qualified: IB answers error 321 to
  contract details of a BAG). ``symbol`` is the underlying's, ``exchange`` SMART in the US and CDE
  in Canada, ``currency`` the listing's.
* FX pairs such as ``USD.CAD`` are CASH contracts on IDEALPRO (symbol USD, currency CAD).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from ib_async import Contract, Option, Stock
from ib_async.contract import ComboLeg

from seeker.core.models import Leg, Listing, OptionContract

PRIMARY_EXCHANGE = {"TSX": "TSE"}
"""Seeker exchange names that IB spells differently."""
COMBO_TICK = 0.01
"""Price increment of option combos ($ per share)."""
FX_TICK = 0.00005
"""Price increment of IDEALPRO USD.CAD orders."""


def is_canadian(listing: Listing) -> bool:
    """Return True for a listing quoted in CAD (options on the Montreal exchange)."""
    return listing.currency == "CAD"


def option_exchange(listing: Listing) -> str:
    """Return the exchange options (and combos) of a listing are routed to."""
    return "CDE" if is_canadian(listing) else "SMART"


def stock_contract(listing: Listing) -> Stock:
    """Return the (unqualified) IB stock contract of a listing."""
    primary = PRIMARY_EXCHANGE.get(listing.exchange.upper(), listing.exchange.upper())
    return Stock(listing.symbol, "SMART", listing.currency, primaryExchange=primary)


def option_contract(listing: Listing, oc: OptionContract, trading_class: str = "") -> Option:
    """Return the (unqualified) IB option contract of a Seeker option."""
    return Option(
        listing.symbol,
        f"{oc.expiry:%Y%m%d}",
        float(oc.strike),
        oc.right,
        option_exchange(listing),
        multiplier=str(listing.multiplier),
        currency=listing.currency,
        tradingClass=trading_class,
    )


def expiry_query(listing: Listing, expiry: date, trading_class: str) -> Option:
    """Return a partial option contract matching every strike and right of one expiry."""
    return Option(
        listing.symbol,
        f"{expiry:%Y%m%d}",
        exchange=option_exchange(listing),
        multiplier=str(listing.multiplier),
        currency=listing.currency,
        tradingClass=trading_class,
    )


def fx_contract(pair: str) -> Contract:
    """Return the IDEALPRO CASH contract of a pair written ``BASE.QUOTE`` (e.g. USD.CAD)."""
    base, sep, quote = pair.upper().partition(".")
    if not sep or len(base) != 3 or len(quote) != 3:
        raise ValueError(f"FX pair must look like USD.CAD, not {pair!r}")
    return Contract(secType="CASH", symbol=base, currency=quote, exchange="IDEALPRO")


def bag_contract(listing: Listing, legs: Iterable[tuple[int, Leg]]) -> Contract:
    """Return the BAG of a combo from its legs' conIds (ratio and action per leg)."""
    exchange = option_exchange(listing)
    return Contract(
        secType="BAG",
        symbol=listing.symbol,
        currency=listing.currency,
        exchange=exchange,
        comboLegs=[
            ComboLeg(conId=con_id, ratio=leg.ratio, action=leg.action, exchange=exchange)
            for con_id, leg in legs
        ],
    )


def parse_expiry(text: str) -> date:
    """Return the date of IB's ``lastTradeDateOrContractMonth`` (YYYYMMDD[ HH:MM…])."""
    head = text.strip().split(" ")[0].replace("-", "")
    return datetime.strptime(head[:8], "%Y%m%d").date()


def norm_right(right: str) -> str:
    """Return "C" or "P" from IB's right ("C", "CALL", "P", "PUT"); "" when unknown."""
    return {"C": "C", "CALL": "C", "P": "P", "PUT": "P"}.get(right.upper(), "")


class ListingIndex:
    """Find the Seeker listing behind an IB contract (by symbol and currency)."""

    def __init__(self, listings: Mapping[str, Listing]) -> None:
        self.listings = dict(listings)
        self._by_key: dict[tuple[str, str], list[Listing]] = {}
        for li in listings.values():
            self._by_key.setdefault((li.symbol.upper(), li.currency.upper()), []).append(li)

    def listing_for(self, contract: Contract) -> Listing | None:
        """Return the listing of a stock, option or BAG contract; None if unknown or ambiguous."""
        found = self._by_key.get((contract.symbol.upper(), contract.currency.upper()), [])
        if len(found) == 1:
            return found[0]
        primary = (contract.primaryExchange or "").upper()
        exact = [li for li in found if PRIMARY_EXCHANGE.get(li.exchange, li.exchange) == primary]
        return exact[0] if len(exact) == 1 else None

    def option_of(self, contract: Contract) -> OptionContract | None:
        """Return the Seeker option of an IB OPT contract, or None if it is not one of ours."""
        if contract.secType != "OPT":
            return None
        listing = self.listing_for(contract)
        right = norm_right(contract.right)
        if listing is None or not right or not contract.lastTradeDateOrContractMonth:
            return None
        if contract.multiplier and float(contract.multiplier) != float(listing.multiplier):
            return None
        return OptionContract(
            listing.listing_id,
            parse_expiry(contract.lastTradeDateOrContractMonth),
            float(contract.strike),
            right,  # type: ignore[arg-type]
        )


def floor_to_tick(price: float, tick: float) -> float:
    """Return `price` rounded down to the tick grid (a BUY never pays more than asked)."""
    if not math.isfinite(price):
        raise ValueError(f"price {price} is not a number")
    units = math.floor(price / tick + 1e-9)
    return round(units * tick, 10)


def ceil_to_tick(price: float, tick: float) -> float:
    """Return `price` rounded up to the tick grid (a SELL never receives less than asked)."""
    if not math.isfinite(price):
        raise ValueError(f"price {price} is not a number")
    units = math.ceil(price / tick - 1e-9)
    return round(units * tick, 10)
