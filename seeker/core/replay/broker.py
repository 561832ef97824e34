"""ReplayBroker: the Broker protocol over historical option chains from the chain store.

Quotes, open interest and volume are served exactly as recorded, one snapshot per quote date
at its decision time (see :mod:`seeker.core.replay.market`). Combo limit orders fill with the
simulated broker's model (:mod:`seeker.core.fill_model`): at the natural when marketable, else
with a probability from ``fill_probability_at_mid`` at the mid to 1 at the natural, keyed by
(seed, order, time) so the same store and seed give the same fills. Index options are European
and cash-settled: an expired position is settled per contract at its intrinsic value on the
index close (PM) or open (AM) of the expiry day, never assigned. Cash and positions persist in
a small state file when one is named.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from seeker.core.broker import ConnectionState
from seeker.core.commissions import Commissions
from seeker.core.models import (
    AccountSnapshot,
    Action,
    BrokerPosition,
    BrokerUnavailable,
    Chain,
    ComboOrder,
    DailyHistory,
    DataUnavailable,
    Fill,
    FxQuote,
    OptionContract,
    OptionQuote,
    OrderState,
    UnderlyingQuote,
)
from seeker.core.replay.account import ReplayAccount
from seeker.core.replay.market import ReplayListing, ReplayMarket, SnapshotTime
from seeker.core.replay.orders import ReplayOrders
from seeker.core.replay.settlement import (
    Settlement,
    SettlementRule,
    index_value,
    intrinsic,
    rule_for,
)
from seeker.core.replay.store import ChainStore

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class FixedFx:
    """A currency quote held constant for the whole replay, e.g. USD.CAD 1.3400/1.3402."""

    pair: str
    bid: float
    ask: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.bid) and math.isfinite(self.ask) and 0 < self.bid <= self.ask):
            raise ValueError(f"{self.pair}: need 0 < bid ≤ ask, got {self.bid}/{self.ask}")


class ReplayBroker:
    """The Broker protocol over the chain store; thread-safe."""

    kind = "replay"

    def __init__(
        self,
        store: ChainStore,
        listings: Mapping[str, ReplayListing],
        histories: Mapping[str, DailyHistory],
        commissions: Commissions,
        fill_probability_at_mid: float,
        seed: int,
        base_currency: str,
        initial_cash: Mapping[str, float],
        snapshot_time: SnapshotTime,
        fx: FixedFx | None,
        state_path: Path | None = None,
        fx_commission_rate: float = 0.00002,
        fx_min_commission: float = 2.0,
    ) -> None:
        if not 0.0 <= fill_probability_at_mid <= 1.0:
            raise ValueError("fill_probability_at_mid must be within [0, 1]")
        for lst in listings.values():
            try:
                commissions[lst.currency]
            except KeyError as exc:
                raise ValueError(f"{lst.listing_id}: {exc.args[0]}") from None
        self.market = ReplayMarket(store, listings, histories, snapshot_time)
        self.seed = seed
        self.base_currency = base_currency
        self.fx = fx
        self.state_path = state_path
        self.ledger = ReplayAccount(dict(initial_cash))
        self.orders = ReplayOrders(
            self.market,
            self.ledger,
            commissions,
            seed,
            fill_probability_at_mid,
            fx_commission_rate,
            fx_min_commission,
        )
        self._lock = threading.RLock()
        self._state = ConnectionState.DISCONNECTED

    # -- time --------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """Return the replay's current time."""
        return self.market.now

    def decision_times(self) -> list[datetime]:
        """Return the decision time of every quote date of the store, in order."""
        return self.market.decision_times()

    def advance_to(self, t: datetime) -> None:
        """Move to `t` (aware; at or before now is a no-op): settle what expired, cancel orders
        on expired legs, and match working orders against a new snapshot."""
        with self._lock:
            before = self.market.now
            changed = self.market.advance_to(t)
            if self.market.now == before:
                return
            settled = self.ledger.settle(self.now, self.market)
            self.orders.cancel_expired()
            filled = self.orders.match_all() if changed else False
            if settled or filled:
                self.save_state()

    on_time = advance_to
    """The name the simulated clock calls back (``on_advance``)."""

    # -- persistence -------------------------------------------------------------------------
    def load_state(self) -> datetime | None:
        """Restore cash, positions, settlements and the time of an earlier run; return the time."""
        if self.state_path is None or not self.state_path.exists():
            return None
        raw = json.loads(self.state_path.read_text())
        if raw.get("version") != STATE_VERSION or raw.get("kind") != self.kind:
            raise ValueError(f"{self.state_path}: not a replay state file (version 1)")
        if raw["seed"] != self.seed:
            raise ValueError(
                f"{self.state_path} belongs to a replay with seed {raw['seed']}, "
                f"the config says {self.seed}; use another log folder"
            )
        with self._lock:
            self.ledger.cash = {k: float(v) for k, v in raw["cash"].items()}
            self.ledger.load_positions(raw["positions"])
            self.ledger.settlements = [Settlement.from_dict(r) for r in raw["settlements"]]
            self.orders.next_id = int(raw["next_id"])
            at = datetime.fromisoformat(raw["now"])
            self.market.advance_to(at)
        return at

    def save_state(self) -> None:
        """Write cash, positions, settlements and the time atomically (fsynced)."""
        if self.state_path is None:
            return
        with self._lock:
            raw = {
                "version": STATE_VERSION,
                "kind": self.kind,
                "seed": self.seed,
                "now": self.now.isoformat(),
                "cash": self.ledger.cash,
                "next_id": self.orders.next_id,
                "positions": self.ledger.positions_as_dicts(),
                "settlements": [s.as_dict() for s in self.ledger.settlements],
            }
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_path.with_suffix(".tmp")
            with tmp.open("w") as fh:
                json.dump(raw, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.state_path)

    # -- connection --------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the replay session (always succeeds)."""
        self._state = ConnectionState.CONNECTED

    def close(self) -> None:
        """Cancel every working order (nothing survives the process) and save the account."""
        with self._lock:
            self.orders.cancel_all("cancelled at shutdown")
            self.save_state()
            self._state = ConnectionState.DISCONNECTED

    def connection_state(self) -> ConnectionState:
        """Return the connection state."""
        return self._state

    def market_data_type(self) -> str:
        """Return "historical" (recorded snapshots)."""
        return "historical"

    def _require_connected(self) -> None:
        if self._state != ConnectionState.CONNECTED:
            raise BrokerUnavailable("replay broker not connected")

    # -- market data ---------------------------------------------------------------------------
    def underlying_quote(self, listing_id: str) -> UnderlyingQuote:
        """Return the index value of the current snapshot."""
        with self._lock:
            self._require_connected()
            return self.market.underlying_quote(listing_id)

    def expiries(self, listing_id: str) -> list[date]:
        """Return the expiries quoted in the current snapshot."""
        with self._lock:
            self._require_connected()
            return self.market.expiries(listing_id)

    def strikes(self, listing_id: str, expiry: date) -> list[float]:
        """Return the strikes quoted for one expiry in the current snapshot."""
        with self._lock:
            self._require_connected()
            return self.market.strikes(listing_id, expiry)

    def option_chain(
        self,
        listing_id: str,
        expiries: Sequence[date],
        strike_range: tuple[float, float] | None = None,
    ) -> Chain:
        """Return recorded quotes for the expiries, strikes within the range if given."""
        with self._lock:
            self._require_connected()
            return self.market.chain(listing_id, expiries, strike_range)

    def option_quotes(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, OptionQuote]:
        """Return recorded quotes of the contracts the current snapshot holds."""
        with self._lock:
            self._require_connected()
            return self.market.option_quotes(contracts)

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return the last `sessions` completed daily bars with implied volatility."""
        with self._lock:
            self._require_connected()
            return self.market.history(listing_id, sessions)

    def fx_quote(self, pair: str) -> FxQuote:
        """Return the fixed quote of `pair` stamped now; DataUnavailable when none was given."""
        with self._lock:
            self._require_connected()
            if self.fx is None or self.fx.pair != pair:
                raise DataUnavailable(f"no {pair} quote in this replay (none was configured)")
            return FxQuote(pair, self.fx.bid, self.fx.ask, self.now)

    # -- account -------------------------------------------------------------------------------
    def account(self) -> AccountSnapshot:
        """Return cash per currency and net liquidation marked at the snapshot's mids.

        Net liquidation is NaN when a held contract has no quote now or a currency cannot be
        converted: never marked at a guess.
        """
        with self._lock:
            self._require_connected()
            value = dict(self.ledger.cash)
            for c, (qty, _cost) in self.ledger.positions.items():
                lst = self.market.listing(c.listing_id)
                mark = self.market.mark(c)
                value[lst.currency] = value.get(lst.currency, 0.0) + qty * mark * lst.multiplier
            nlv = 0.0
            for ccy, amount in value.items():
                nlv += amount if ccy == self.base_currency else self._convert(amount, ccy)
            cash = dict(self.ledger.cash)
            return AccountSnapshot("REPLAY", self.base_currency, cash, nlv, self.now)

    def _convert(self, amount: float, ccy: str) -> float:
        if self.fx is None:
            return math.nan
        base, quote = self.fx.pair.split(".")
        mid = (self.fx.bid + self.fx.ask) / 2.0
        if ccy == base and self.base_currency == quote:
            return amount * mid
        if ccy == quote and self.base_currency == base:
            return amount / mid
        return math.nan

    def positions(self) -> list[BrokerPosition]:
        """Return option positions per contract."""
        with self._lock:
            self._require_connected()
            held = sorted(self.ledger.positions.items())
            return [BrokerPosition(c, q, cost) for c, (q, cost) in held]

    # -- orders --------------------------------------------------------------------------------
    def place_order(self, order: ComboOrder) -> OrderState:
        """Accept a combo limit order and try to match it on the current snapshot."""
        with self._lock:
            self._require_connected()
            state = self.orders.place(order)
            if state.fills:
                self.save_state()
            return state

    def modify_order(self, order_id: str, limit_price: float) -> OrderState:
        """Change the limit of a working order and try to match it."""
        with self._lock:
            self._require_connected()
            before = len(self.orders.state(order_id).fills)
            state = self.orders.modify(order_id, limit_price)
            if len(state.fills) != before:
                self.save_state()
            return state

    def cancel_order(self, order_id: str) -> OrderState:
        """Cancel a working order (fills already made stay)."""
        with self._lock:
            self._require_connected()
            return self.orders.cancel(order_id)

    def order_state(self, order_id: str) -> OrderState:
        """Return an order's state with all its fills."""
        with self._lock:
            self._require_connected()
            return self.orders.state(order_id)

    def open_orders(self) -> list[OrderState]:
        """Return the working orders."""
        with self._lock:
            self._require_connected()
            return self.orders.working()

    def executions(self, since: datetime | None = None) -> list[Fill]:
        """Return the executions of this replay process at or after `since`, oldest first."""
        with self._lock:
            return self.orders.fills(since)

    def place_fx_order(
        self, pair: str, action: Action, qty: int, limit_price: float, order_ref: str
    ) -> OrderState:
        """Convert currency at the fixed quote when marketable; DataUnavailable without a quote."""
        with self._lock:
            self._require_connected()
            quote = self.fx_quote(pair)
            state = self.orders.place_fx(quote, action, qty, limit_price, order_ref)
            if state.fills:
                self.save_state()
            return state

    # -- settlement ----------------------------------------------------------------------------
    def settlement_rule(self, contract: OptionContract) -> SettlementRule | None:
        """Return how a contract settles (AM: index open, PM: index close of its expiry day),
        None when the data does not say."""
        with self._lock:
            style = self.ledger.styles.get(contract) or self.market.settlement_style(contract)
            return rule_for(contract.expiry, style)

    def settlement(self, contract: OptionContract) -> Settlement | None:
        """Return the settlement record (rule, index value, cash) of a contract held at expiry."""
        with self._lock:
            for s in reversed(self.ledger.settlements):
                if s.contract == contract:
                    return s
            return None

    def settlement_note(self, contract: OptionContract) -> str | None:
        """Return the settlement rule of a contract in words (AM: index open, PM: close)."""
        with self._lock:
            s = self.settlement(contract)
            rule = s.rule if s is not None else self.settlement_rule(contract)
            return None if rule is None else rule.describe()

    def expiry_settlement(self, contract: OptionContract) -> float | None:
        """Return the intrinsic value ($ per share) an expired contract settles at, else None.

        :meth:`settlement_rule` (or :meth:`settlement` for a held contract) says whether the
        index open (AM) or close (PM) of the expiry day was used.
        """
        with self._lock:
            s = self.settlement(contract)
            if s is not None:
                return s.intrinsic
            rule = self.settlement_rule(contract)
            history = self.market.histories.get(contract.listing_id)
            if rule is None or history is None or self.now < rule.known_at:
                return None
            value = index_value(history, rule)
            return None if value is None else intrinsic(contract, value)
