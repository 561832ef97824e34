"""ReplayBroker on real SPX chains (2019-06-19 → 06-24, across the June monthly expiry)."""

from __future__ import annotations

import csv
import math
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest

from seeker.core.broker import Broker
from seeker.core.calendar import MARKET_TZ
from seeker.core.commissions import Commissions, CommissionSchedule
from seeker.core.models import (
    ComboOrder,
    DailyHistory,
    DataUnavailable,
    Leg,
    OptionContract,
    OrderStatus,
)
from seeker.core.replay.broker import FixedFx, ReplayBroker
from seeker.core.replay.history import load_index_history
from seeker.core.replay.importers import import_chains
from seeker.core.replay.market import ReplayListing
from seeker.core.replay.store import ChainStore

from .shared_data import chain_file, raw_rows, shared_data

DAYS = ("20190619", "20190620", "20190621", "20190624")
SNAPSHOT = time(15, 45)
EXPIRY = date(2019, 6, 21)  # SPX monthly (AM) and SPXW (PM) both expire
LISTINGS = {
    "SPXW": ReplayListing("SPXW", "SPX", "SPXW", "USD", 100),
    "SPX": ReplayListing("SPX", "SPX", "SPX", "USD", 100),
}
FEES = Commissions({"USD": CommissionSchedule("USD", 0.65, 1.0, exchange_fee_per_contract=0.6)})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ChainStore:
    dest = tmp_path_factory.mktemp("spx")
    import_chains("cboe-delayed", [chain_file(d) for d in DAYS], dest)
    return ChainStore(dest)


@pytest.fixture(scope="module")
def history() -> DailyHistory:
    base = shared_data() / "index-history"
    return load_index_history(
        "SPX", base / "spx_daily.csv", base / "vix_daily.csv", date(2019, 6, 19), EXPIRY, 252
    )


def _broker(
    store: ChainStore,
    history: DailyHistory,
    p_mid: float = 0.3,
    seed: int = 7,
    fx: FixedFx | None = None,
    state_path: Path | None = None,
    advance: bool = True,
) -> ReplayBroker:
    b = ReplayBroker(
        store,
        LISTINGS,
        {"SPXW": history, "SPX": history},
        FEES,
        p_mid,
        seed,
        "USD",
        {"USD": 100_000.0},
        SNAPSHOT,
        fx,
        state_path=state_path,
    )
    b.connect()
    if advance:
        b.advance_to(b.decision_times()[0])
    return b


def _raw_quote(day: str, symbol: str) -> tuple[float, float, int]:
    row = next(r for r in raw_rows(chain_file(day)) if r["optionroot"] == symbol)
    return float(row["bid"]), float(row["ask"]), int(row["openinterest"])


def _spx_bar(day: date) -> dict[str, float]:
    with (shared_data() / "index-history" / "spx_daily.csv").open() as fh:
        row = next(r for r in csv.DictReader(fh) if r["date"] == day.isoformat())
    return {k: float(v) for k, v in row.items() if k != "date"}


def _put(strike: float, listing: str = "SPXW") -> OptionContract:
    return OptionContract(listing, EXPIRY, strike, "P")


def test_decision_times_need_a_snapshot_time_the_data_lacks(
    store: ChainStore, history: DailyHistory
) -> None:
    b = _broker(store, history)
    assert isinstance(b, Broker)
    assert b.decision_times() == [
        datetime(2019, 6, d, 15, 45, tzinfo=MARKET_TZ) for d in (19, 20, 21, 24)
    ]
    with pytest.raises(ValueError, match="no quote_time; pass the snapshot time"):
        ReplayBroker(
            store, LISTINGS, {"SPXW": history, "SPX": history}, FEES, 0.3, 7, "USD", {}, None, None
        )


def test_quotes_are_served_as_recorded_at_the_decision_time_only(
    store: ChainStore, history: DailyHistory
) -> None:
    b = _broker(store, history)
    bid, ask, oi = _raw_quote("20190619", "SPXW190621P02900000")
    q = b.option_quotes([_put(2900.0)])[_put(2900.0)]
    assert (q.bid, q.ask, q.open_interest) == (bid, ask, oi)
    assert q.ts == b.decision_times()[0] and q.underlying_price == 2928.04
    assert b.underlying_quote("SPXW").mid == 2928.04
    assert EXPIRY in b.expiries("SPX") and EXPIRY in b.expiries("SPXW")
    assert 2900.0 in b.strikes("SPXW", EXPIRY)
    chain = b.option_chain("SPXW", [EXPIRY], (2890.0, 2910.0))
    assert {q.contract.strike for q in chain.quotes} == {2890.0, 2895.0, 2900.0, 2905.0, 2910.0}
    assert chain.chain_volume == sum(
        int(r["volume"])
        for r in raw_rows(chain_file("20190619"))
        if r["optionroot"].startswith("SPXW") and float(r["ask"]) > 0
    )
    # history ends with the last completed session: no look-ahead
    assert b.history("SPXW", 252).dates[-1] == date(2019, 6, 18)
    with pytest.raises(DataUnavailable, match="253 sessions of history asked, 252"):
        b.history("SPXW", 253)
    # between snapshots there is no market
    b.advance_to(datetime(2019, 6, 20, 10, 0, tzinfo=MARKET_TZ))
    with pytest.raises(DataUnavailable, match="taken at 15:45; it is 10:00"):
        b.underlying_quote("SPXW")
    assert b.option_quotes([_put(2900.0)]) == {}
    state = b.place_order(ComboOrder("seeker:t:p9:open", "SPXW", (Leg(_put(2900.0), "BUY"),), 1, 9))
    assert state.status == OrderStatus.REJECTED and "no market now" in state.reason


def test_a_listing_over_both_roots_is_refused(store: ChainStore, history: DailyHistory) -> None:
    both = {"SPX": ReplayListing("SPX", "SPX", None, "USD", 100)}
    b = ReplayBroker(store, both, {"SPX": history}, FEES, 0.3, 7, "USD", {}, SNAPSHOT, None)
    b.connect()
    b.advance_to(b.decision_times()[0])
    with pytest.raises(DataUnavailable, match="more than one option root"):
        b.option_chain("SPX", [EXPIRY])


def test_marketable_combo_fills_at_the_natural(store: ChainStore, history: DailyHistory) -> None:
    b = _broker(store, history)
    short_bid, _, _ = _raw_quote("20190619", "SPXW190621P02900000")
    _, long_ask, _ = _raw_quote("20190619", "SPXW190621P02890000")
    natural = long_ask - short_bid  # a credit: negative
    legs = (Leg(_put(2900.0), "SELL"), Leg(_put(2890.0), "BUY"))
    state = b.place_order(ComboOrder("seeker:t:p1:open", "SPXW", legs, 2, natural + 0.10))
    assert state.status == OrderStatus.FILLED and state.filled == 2
    (fill,) = state.fills
    assert fill.price == pytest.approx(natural, abs=1e-9)
    assert fill.commission == pytest.approx(0.65 * 4 + 0.6 * 4)  # fee on top, min not binding
    assert b.account().cash["USD"] == pytest.approx(100_000 - natural * 100 * 2 - fill.commission)
    assert {p.contract: p.qty for p in b.positions()} == {_put(2900.0): -2, _put(2890.0): 2}


def test_limit_at_mid_is_left_to_the_probability_rule(
    store: ChainStore, history: DailyHistory
) -> None:
    legs = (Leg(_put(2900.0), "SELL"), Leg(_put(2890.0), "BUY"))
    q = _broker(store, history).option_quotes([leg.contract for leg in legs])
    mid = q[_put(2890.0)].mid - q[_put(2900.0)].mid

    def outcomes(p_mid: float, seed: int) -> list[int]:
        b = _broker(store, history, p_mid=p_mid, seed=seed)
        return [
            b.place_order(ComboOrder(f"seeker:t:p{i}:open", "SPXW", legs, 1, mid)).filled
            for i in range(200)
        ]

    assert sum(outcomes(0.0, 7)) == 0
    assert sum(outcomes(1.0, 7)) == 200
    filled = outcomes(0.3, 7)
    assert 30 <= sum(filled) <= 90  # ≈ 60 expected of 200 at p = 0.3
    assert outcomes(0.3, 7) == filled  # same store and seed, same fills
    assert outcomes(0.3, 8) != filled
    # several units at the mid may fill in part
    b = _broker(store, history, p_mid=1.0)
    parts = {b.place_order(ComboOrder(f"x{i}", "SPXW", legs, 5, mid)).filled for i in range(30)}
    assert parts - {5} and parts <= {1, 2, 3, 4, 5}


def test_working_order_is_matched_again_at_the_next_snapshot(
    store: ChainStore, history: DailyHistory
) -> None:
    b = _broker(store, history, p_mid=0.0)
    legs = (Leg(_put(2900.0), "SELL"), Leg(_put(2890.0), "BUY"))
    state = b.place_order(ComboOrder("seeker:t:p1:open", "SPXW", legs, 1, -5.0))
    assert state.status == OrderStatus.SUBMITTED and b.open_orders()[0].order_id == state.order_id
    b.advance_to(b.decision_times()[1])
    assert b.order_state(state.order_id).status == OrderStatus.SUBMITTED
    # on the expiry day at the decision time (after the 09:30 open) AM legs are gone; PM at 16:00
    b.advance_to(datetime(2019, 6, 21, 16, 0, tzinfo=MARKET_TZ))
    assert b.order_state(state.order_id).status == OrderStatus.CANCELLED
    assert b.order_state(state.order_id).reason == "a leg expired"


def test_settles_spxw_at_the_close_and_spx_at_the_open(
    store: ChainStore, history: DailyHistory, tmp_path: Path
) -> None:
    b = _broker(store, history, state_path=tmp_path / "replay_state.json")
    am_call = OptionContract("SPX", EXPIRY, 2900.0, "C")
    pm_call = OptionContract("SPXW", EXPIRY, 2900.0, "C")
    for i, c in enumerate((am_call, pm_call)):
        ask = b.option_quotes([c])[c].ask
        assert b.place_order(ComboOrder(f"r{i}", c.listing_id, (Leg(c, "BUY"),), 1, ask)).filled
    cash = b.account().cash["USD"]
    bar = _spx_bar(EXPIRY)
    b.advance_to(datetime(2019, 6, 21, 9, 29, tzinfo=MARKET_TZ))
    assert len(b.positions()) == 2 and b.expiry_settlement(am_call) is None
    b.advance_to(b.decision_times()[2])  # 2019-06-21 15:45: the open is known, not the close
    assert [p.contract for p in b.positions()] == [pm_call]
    assert b.expiry_settlement(am_call) == pytest.approx(bar["open"] - 2900.0)
    assert b.expiry_settlement(pm_call) is None
    b.advance_to(b.decision_times()[3])
    assert b.positions() == []
    assert b.expiry_settlement(pm_call) == pytest.approx(bar["close"] - 2900.0)
    am_rule, pm_rule = b.settlement_rule(am_call), b.settlement_rule(pm_call)
    assert am_rule is not None and pm_rule is not None
    assert (am_rule.style, am_rule.value) == ("AM", "open")
    assert (pm_rule.style, pm_rule.value) == ("PM", "close")
    record = b.settlement(pm_call)
    assert record is not None and record.index_value == bar["close"]
    gained = 100 * (bar["open"] - 2900.0) + 100 * (bar["close"] - 2900.0)
    assert b.account().cash["USD"] == pytest.approx(cash + gained)
    # the saved state brings the same account back
    again = _broker(store, history, state_path=tmp_path / "replay_state.json", advance=False)
    assert again.load_state() == b.now
    assert again.account().cash == b.account().cash and again.positions() == []
    assert [s.as_dict() for s in again.ledger.settlements] == [
        s.as_dict() for s in b.ledger.settlements
    ]


def test_fx_order_is_refused_without_a_quote(store: ChainStore, history: DailyHistory) -> None:
    b = _broker(store, history)
    with pytest.raises(DataUnavailable, match=r"no USD\.CAD quote"):
        b.fx_quote("USD.CAD")
    with pytest.raises(DataUnavailable, match=r"no USD\.CAD quote"):
        b.place_fx_order("USD.CAD", "BUY", 100, 1.5, "seeker:fx:x:fx")
    assert b.account().cash == {"USD": 100_000.0}
    fixed = _broker(store, history, fx=FixedFx("USD.CAD", 1.3100, 1.3102))
    q = fixed.fx_quote("USD.CAD")
    assert (q.bid, q.ask, q.ts) == (1.3100, 1.3102, fixed.now)
    state = fixed.place_fx_order("USD.CAD", "SELL", 100, 1.3100, "seeker:fx:x:fx")
    assert state.status == OrderStatus.FILLED
    assert fixed.order_state(state.order_id) == state
    assert fixed.account().cash["CAD"] == pytest.approx(131.0)


def test_held_contract_without_a_quote_makes_net_liquidation_unknown(
    store: ChainStore, history: DailyHistory
) -> None:
    b = _broker(store, history)
    c = OptionContract("SPX", EXPIRY, 2900.0, "C")
    assert b.place_order(ComboOrder("r", "SPX", (Leg(c, "BUY"),), 1, 99.0)).filled == 1
    b.advance_to(b.decision_times()[0] + timedelta(hours=1))  # same snapshot: still quoted
    assert b.account().net_liquidation == b.account().net_liquidation
    b.advance_to(datetime(2019, 6, 20, 12, 0, tzinfo=MARKET_TZ))  # no snapshot at noon
    nlv = b.account().net_liquidation
    assert nlv != nlv  # NaN: never marked at a guess


def test_a_hand_written_normalized_chain_replays_with_unknowns_left_unknown(
    tmp_path: Path,
) -> None:
    src = tmp_path / "chain.csv"
    src.write_text(
        "quote_date,quote_time,underlying,underlying_price,expiration,strike,right,bid,ask,volume\n"
        "2019-07-02,15:30,XSP,297.3,2019-07-19,295,P,1.10,1.20,40\n"
        "2019-07-02,15:30,XSP,297.3,2019-07-19,300,C,1.50,1.65,\n"
        "2019-07-03,15:30,XSP,299.6,2019-07-19,295,P,0.80,0.90,12\n"
    )
    report = import_chains("normalized", [src], tmp_path / "store")
    assert report.rows_kept == 3
    days = (date(2019, 7, 1), date(2019, 7, 2), date(2019, 7, 3))
    history = DailyHistory(
        "XSP",
        days,
        *(np.array([296.0, 297.0, 299.0]) for _ in range(4)),
        np.array([0.15, 0.16, 0.14]),
    )
    b = ReplayBroker(
        ChainStore(tmp_path / "store"),
        {"XSP": ReplayListing("XSP", "XSP", None, "USD", 100)},
        {"XSP": history},
        FEES,
        0.3,
        1,
        "USD",
        {"USD": 1000.0},
        None,  # the data's quote_time gives the decision times
        None,
    )
    b.connect()
    assert b.decision_times() == [datetime(2019, 7, d, 15, 30, tzinfo=MARKET_TZ) for d in (2, 3)]
    b.advance_to(b.decision_times()[0])
    chain = b.option_chain("XSP", [date(2019, 7, 19)])
    put, call = chain.side(date(2019, 7, 19), "P")[0], chain.side(date(2019, 7, 19), "C")[0]
    assert (put.bid, put.ask, put.volume) == (1.10, 1.20, 40)
    assert put.open_interest is None and call.open_interest is None  # unknown, not 0
    assert call.volume is None and chain.chain_volume is None
    assert math.isnan(put.delta) and math.isnan(put.iv) and math.isnan(put.theta)
    assert put.problem(b.now, 60.0) == "XSP 2019-07-19 295P: delta unknown"
    assert b.history("XSP", 1).dates == (date(2019, 7, 1),)
    # the contract's settlement style is unknown: no settlement price is made up
    assert b.settlement_rule(put.contract) is None
