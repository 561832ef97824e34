"""What the tests of the fake TWS and of IBKRBroker share: the test market, the wire guard, helpers.

The fixtures built on these (``wire_guard``, ``calendars``, ``sim``, ``tws``) live in
``tests/conftest.py``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import FrameType

from ib_async.decoder import Decoder

from seeker.core.calendar import MarketCalendars
from seeker.core.commissions import Commissions, CommissionSchedule
from seeker.core.models import Listing, OptionContract
from seeker.core.sim.broker import SimBroker
from seeker.core.sim.market import SimMarket
from seeker.core.sim.settings import SimSettings

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "DU1234567"

LISTINGS = {
    "IWM": Listing("IWM", "IWM", "ARCA", "USD", "broad_market", "etf", 0.012, 1.0, "XNYS"),
    "TD": Listing("TD", "TD", "NYSE", "USD", "financials", "stock", 0.04, 0.5, "XNYS"),
    "TD.TO": Listing("TD.TO", "TD", "TSE", "CAD", "financials", "stock", 0.04, 0.5, "XTSE"),
}

_REGIME = {
    "mean_duration_sessions": 20.0,
    "entry_weight": 1.0,
    "drift_per_year": 0.05,
    "vol_multiplier": 1.0,
    "iv_multiplier": 1.0,
    "gap_probability": 0.02,
    "gap_size": 0.01,
    "term_slope": 0.05,
    "skew": 0.2,
    "spread_multiplier": 1.0,
    "volume_multiplier": 1.0,
}
SIM_SETTINGS = {
    "seed": 11,
    "speed": 60.0,
    "start": date(2026, 1, 5),
    "history_sessions": 80,
    "steps_per_session": 13,
    "weekly_expiry_weeks": 2,
    "monthly_expiry_days": 120,
    "usd_cad": 1.37,
    "usd_cad_vol": 0.06,
    "usd_cad_spread_pips": 2.0,
    "usd_cad_market_correlation": -0.3,
    "fill_probability_at_mid": 0.3,
    "factors": {
        "market_vol": 0.16,
        "sector_vol": 0.08,
        "overnight_variance_share": 0.2,
        "trend_vol": 0.1,
        "trend_half_life_sessions": 60.0,
    },
    "iv": {
        "mean_reversion_per_year": 6.0,
        "vol_of_vol": 0.8,
        "spot_sensitivity": 1.0,
        "market_correlation": 0.6,
        "regime_half_life_sessions": 5.0,
        "smile_curvature": 0.1,
        "moneyness_clip": 3.0,
        "min_iv": 0.05,
        "max_iv": 2.0,
    },
    "quotes": {
        "underlying_spread": 0.02,
        "option_tick": 0.01,
        "wing_widening": 0.1,
        "cheap_option_width": 0.05,
        "size_per_open_interest": 0.01,
    },
    "liquidity": {
        "oi_moneyness_width": 1.0,
        "oi_round_strike_factor": 1.5,
        "oi_half_strike_factor": 0.5,
        "weekly_oi_factor": 0.5,
        "oi_noise": 0.3,
        "oi_drift": 0.1,
        "volume_noise": 0.3,
        "volume_u_shape": 0.3,
        "volume_moneyness_width": 1.0,
    },
    "regimes": {name: _REGIME for name in ("calm", "trend_up", "trend_down", "stress")},
    "listings": {
        "IWM": {
            "spot": 220.0,
            "base_iv": 0.22,
            "beta": 1.1,
            "sector_loading": 0.0,
            "idio_vol": 0.1,
            "option_spread": 0.05,
            "open_interest": 5000,
            "chain_volume": 200000,
        },
        "TD": {
            "spot": 60.0,
            "base_iv": 0.2,
            "beta": 0.9,
            "sector_loading": 0.5,
            "idio_vol": 0.15,
            "option_spread": 0.1,
            "open_interest": 800,
            "chain_volume": 5000,
        },
        "TD.TO": {
            "spot": 82.2,
            "base_iv": 0.2,
            "beta": 0.0,
            "sector_loading": 0.0,
            "idio_vol": 0.01,
            "option_spread": 0.15,
            "open_interest": 500,
            "chain_volume": 3000,
            "follows": "TD",
        },
    },
}
COMMISSIONS = Commissions(
    {"USD": CommissionSchedule("USD", 0.65, 1.0), "CAD": CommissionSchedule("CAD", 1.25, 1.25)}
)


class WireGuard(logging.Handler):
    """Collect the signs of a malformed frame: decoder errors, fake errors, unread fields.

    ib_async logs and drops a frame it cannot unpack (never raises), and it silently ignores
    fields left over at the end of a frame. So besides ERROR records, the guard checks every
    frame an ib_async ``Decoder`` interprets (in whichever thread runs it: a test's own ``IB``
    client, an IBKRBroker's gateway thread) and that it is consumed exactly: while installed,
    ``Decoder.interpret`` checks the frame against the handler it goes to, then decodes it.

    Only the handlers that unpack into a local ``fields`` remainder are traced, and only for the
    length of that one call (a trace of every call in the gateway thread cost a third of the
    IBKR run tests' time).
    """

    _LEFTOVER = frozenset(
        getattr(Decoder, name).__code__
        for name in ("openOrder", "completedOrder", "execDetails", "contractDetails", "errorMsg")
    )
    _WRAPPED = Decoder.wrap(Decoder.__new__(Decoder), "probe", []).__code__
    _SEC_DEF = Decoder.securityDefinitionOptionParameter.__code__
    _HISTORY = Decoder.historicalData.__code__

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.problems: list[str] = []
        self._interpret: Callable[[Decoder, list[str]], None] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        bad = (
            "Error handling fields" in text
            or (record.name == "ib_async.Decoder" and record.levelno >= logging.ERROR)
            or (record.name.startswith("fake_tws") and record.levelno >= logging.ERROR)
        )
        if bad:
            self.problems.append(f"{record.name}: {text}")

    def take(self) -> list[str]:
        """Return and forget the problems seen so far."""
        out, self.problems = self.problems, []
        return out

    # ---- the decoder hook
    def install(self) -> None:
        """Check every frame any ``Decoder`` interprets from now on (until :meth:`uninstall`)."""
        original = Decoder.interpret
        guard = self

        def interpret(decoder: Decoder, fields: list[str]) -> None:
            guard.interpret(original, decoder, fields)

        self._interpret = original
        Decoder.interpret = interpret  # type: ignore[method-assign]

    def uninstall(self) -> None:
        """Give ``Decoder`` its own ``interpret`` back."""
        if self._interpret is not None:
            Decoder.interpret = self._interpret  # type: ignore[method-assign]
            self._interpret = None

    def interpret(
        self, original: Callable[[Decoder, list[str]], None], decoder: Decoder, fields: list[str]
    ) -> None:
        """Check `fields` against the handler of its message id, then let `original` decode it."""
        try:
            handler = decoder.handlers.get(int(fields[0]))
        except (ValueError, IndexError):
            handler = None  # the decoder logs "Error handling fields" for it
        code = getattr(getattr(handler, "__func__", handler), "__code__", None)
        if code is None:
            original(decoder, fields)
        elif code is self._WRAPPED:
            cells = dict(
                zip(
                    code.co_freevars,
                    (c.cell_contents for c in handler.__closure__ or ()),  # type: ignore[union-attr]
                    strict=True,
                )
            )
            types, skip = cells["types"], cells["skip"]
            if len(fields) - skip != len(types):
                self.problems.append(
                    f"frame {fields} has {len(fields) - skip} fields after the first {skip}, "
                    f"the decoder reads {len(types)}"
                )
            original(decoder, fields)
        elif code is self._SEC_DEF:
            try:
                n = int(fields[6])
                bad = len(fields) < 8 + n or int(fields[7 + n]) != len(fields) - 8 - n
            except (ValueError, IndexError):
                bad = True
            if bad:
                self.problems.append(f"secDefOptParam {fields}: strike count mismatch")
            original(decoder, fields)
        elif code is self._HISTORY:
            try:
                bad = len(fields) != 5 + 8 * int(fields[4])
            except (ValueError, IndexError):
                bad = True
            if bad:
                self.problems.append(f"historicalData of {len(fields)} fields: bar count off")
            original(decoder, fields)
        elif code in self._LEFTOVER:
            previous = sys.gettrace()
            sys.settrace(self._on_call)
            try:
                original(decoder, fields)
            finally:
                sys.settrace(previous)
        else:
            original(decoder, fields)

    def _on_call(self, frame: FrameType, event: str, arg: object) -> Callable[..., object] | None:
        """Trace the frame of a handler that unpacks into ``fields`` (and nothing else)."""
        if event == "call" and frame.f_code in self._LEFTOVER:
            return self._on_return
        return None

    def _on_return(self, frame: FrameType, event: str, arg: object) -> Callable[..., object]:
        if event == "return" and frame.f_locals.get("fields"):
            self.problems.append(
                f"{frame.f_code.co_name} left fields unread: {frame.f_locals['fields']}"
            )
        return self._on_return


def make_sim(calendars: MarketCalendars, **overrides: object) -> SimBroker:
    """Return a connected SimBroker on a fresh SimMarket, at the open of 2026-01-05."""
    settings = SimSettings.model_validate({**SIM_SETTINGS, **overrides})
    market = SimMarket(settings, LISTINGS, calendars, {"USD": 0.04, "CAD": 0.03})
    broker = SimBroker(
        market,
        LISTINGS,
        COMMISSIONS,
        settings.fill_probability_at_mid,
        settings.seed,
        "USD",
        {"USD": 1000.0, "CAD": 0.0},
    )
    broker.connect()
    return broker


def load_calendars() -> MarketCalendars:
    """Return the exchange calendars the test market needs."""
    return MarketCalendars(["XNYS", "XTSE"], date(2025, 6, 1), date(2026, 12, 31))


# ------------------------------------------------------------------------------------------------
# helpers on the backend
# ------------------------------------------------------------------------------------------------


def expiry(sim: SimBroker, listing_id: str = "IWM", index: int = 2) -> date:
    """Return one of the listed expiries (a monthly a few weeks out by default)."""
    return sim.expiries(listing_id)[index]


def atm(sim: SimBroker, listing_id: str = "IWM") -> float:
    """Return the listed strike nearest the underlying's last price."""
    spot = sim.underlying_quote(listing_id).last
    strikes = sim.strikes(listing_id, expiry(sim, listing_id))
    return min(strikes, key=lambda k: abs(k - spot))


def condor(sim: SimBroker, listing_id: str = "IWM") -> list[tuple[OptionContract, str]]:
    """Return an iron condor's legs (contract, action) around the money."""
    e = expiry(sim, listing_id)
    k = atm(sim, listing_id)
    inc = LISTINGS[listing_id].strike_increment
    return [
        (OptionContract(listing_id, e, k - 6 * inc, "P"), "BUY"),
        (OptionContract(listing_id, e, k - 4 * inc, "P"), "SELL"),
        (OptionContract(listing_id, e, k + 4 * inc, "C"), "SELL"),
        (OptionContract(listing_id, e, k + 6 * inc, "C"), "BUY"),
    ]


def natural(sim: SimBroker, legs: list[tuple[OptionContract, str]]) -> float:
    """Return the combo's natural price (pay asks, hit bids) per unit, BUY convention."""
    quotes = sim.option_quotes([c for c, _ in legs])
    total = sum(quotes[c].ask if a == "BUY" else -quotes[c].bid for c, a in legs)
    return round(total, 2)
