"""The diagonal / calendar strategy: buy 60–90 DTE, sell 21–30 DTE slightly OTM; roll the short."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.models import Chain, DataUnavailable, Leg, Listing, OptionContract, OptionQuote
from seeker.core.structures import Setup
from seeker.engine.cycle import OptionStrategy
from seeker.engine.registry import register
from seeker.engine.signals import ExitSignal, PositionView
from seeker.strategies.common.exits import ExitInputs, first_exit
from seeker.strategies.diagonal import risk, scanner
from seeker.strategies.diagonal.config import DiagonalConfig

STRIKE_SIGMAS = 2.5
"""Half-width of the chain request around spot, in deviations of the underlying to the short."""
STRIKE_PAD = 2.0
"""Extra $ on each side of that window (room for a diagonal's long one strike further out)."""


@register
class Diagonal(OptionStrategy[DiagonalConfig]):
    """A net vega buyer for low IV rank: long 60–90 DTE, short 21–30 DTE slightly out of the money.

    The short is bought back at +50–60 % of its premium or at 7–10 DTE and, with ``roll`` on and
    enough life left in the long, replaced by the next 21–30 DTE short in the same combo order
    (intent ``roll``); otherwise the whole diagonal is closed. Stop when the position's P&L falls
    below a share of its risk; close everything when the long nears ``long_exit_dte``.
    """

    name = "diagonal"
    description = "long 60–90 DTE, short 21–30 DTE slightly OTM; buy back / roll the short"
    config_model = DiagonalConfig
    id_prefix = "dg"
    sells_premium = False

    @property
    def manage_dte(self) -> int:
        """Return the short's DTE at which the position is managed (``short_exit_dte``)."""
        return self.config.short_exit_dte

    # -- entry hooks ---------------------------------------------------------------------------
    def wanted_expiries(self, listed: Sequence[date], today: date) -> list[date]:
        """Return one short-window and one long-window expiry (monthlies preferred)."""
        cfg = self.config
        short = scanner.pick_window_expiry(listed, today, cfg.short_dte_min, cfg.short_dte_max)
        long = scanner.pick_window_expiry(listed, today, cfg.long_dte_min, cfg.long_dte_max)
        return sorted({e for e in (short, long) if e is not None})

    def strike_window(
        self, spot: float, iv: float, expiries: Sequence[date], today: date
    ) -> tuple[float, float]:
        """Return strikes around the money: ±2.5 deviations to the nearest expiry, ±2 $."""
        years = max(min((e - today).days for e in expiries), 1) / 365.0
        span = STRIKE_SIGMAS * iv * math.sqrt(years)
        return spot * math.exp(-span) - STRIKE_PAD, spot * math.exp(span) + STRIKE_PAD

    def entry_bound(self, setup: Setup) -> float:
        """Return the largest net debit per unit accepted when opening (``max_debit``)."""
        return float(self.config.max_debit)

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return diagonal setups on the configured side(s) for one underlying."""
        rate = float(self.services.config.rates[listing.currency])
        return scanner.find_setups(
            self.config, self.name, listing, chain, today, self.rights(regime), rate
        )

    def rights(self, regime: Regime) -> list[str]:
        """Return the sides to trade: the configured one, or the trend's (both when none)."""
        right = self.config.right
        if right in ("C", "P"):
            return [right]
        return {"up": ["C"], "down": ["P"]}.get(str(regime.trend), ["C", "P"])

    def structure_worst_loss(
        self,
        legs: Sequence[Leg],
        quotes: Mapping[OptionContract, OptionQuote],
        net_debit: float,
        now: datetime,
    ) -> float:
        """Return the worst loss per unit at the short expiry with the long repriced."""
        listing = self.services.listings[legs[0].contract.listing_id]
        rate = float(self.services.config.rates[listing.currency])
        return risk.worst_loss(
            legs, quotes, net_debit, rate, listing.dividend_yield, listing.european
        )

    # -- management ----------------------------------------------------------------------------
    def exit_signal(self, view: PositionView) -> ExitSignal | None:
        """Return the rule that fires; a short buy-back becomes a roll when one is possible."""
        signal = first_exit(risk.EXITS, self.config, ExitInputs(view))
        if signal is None or signal.rule not in risk.SHORT_RULES:
            return signal
        if not self.config.roll:
            return replace(signal, reason=f"{signal.reason}; roll is off: closing the diagonal")
        new_short, why = self.next_short(view)
        if new_short is None:
            return replace(signal, reason=f"{signal.reason}; no roll ({why}): closing the diagonal")
        long = risk.long_leg(view.position.legs)
        return replace(
            signal,
            reason=f"{signal.reason}; roll to {new_short.contract.key}",
            roll_to=(long, new_short),
        )

    def next_short(self, view: PositionView) -> tuple[Leg | None, str]:
        """Return the next short (21–30 DTE, same side, by delta) for a roll, or why none.

        The new short must expire after the current one and early enough that it reaches
        ``short_exit_dte`` before the long reaches ``long_exit_dte``. Its strike follows the
        entry rule (out of the money, |Δ| in the band, nearest its middle) among the strikes that
        keep the long no further out of the money than it is now: a calendar stays a calendar or
        becomes a diagonal whose long is nearer the money, so the roll adds no strike
        difference to the risk (the Risk Guard check still applies to the roll's price).
        """
        cfg = self.config
        pos = view.position
        today = view.now.date()
        long, short = risk.long_leg(pos.legs), risk.short_leg(pos.legs)
        gap = max(0, cfg.long_exit_dte - cfg.short_exit_dte)
        broker = self.services.broker
        try:
            listed = [
                e
                for e in broker.expiries(pos.listing_id)
                if short.contract.expiry < e and (long.contract.expiry - e).days > gap
            ]
            expiry = scanner.pick_window_expiry(listed, today, cfg.short_dte_min, cfg.short_dte_max)
            if expiry is None:
                return None, (
                    f"no expiry within {cfg.short_dte_min}–{cfg.short_dte_max} DTE that the long "
                    f"({long.contract.expiry}) outlives by more than {gap} days"
                )
            iv = view.quote(long.contract).iv
            if not (math.isfinite(iv) and iv > 0):
                return None, f"{long.contract.key}: no IV to size the chain request"
            lo, hi = self.strike_window(view.spot, iv, [expiry], today)
            chain = broker.option_chain(pos.listing_id, [expiry], (lo, hi))
        except DataUnavailable as exc:
            return None, f"no chain for the next short: {exc}"
        right = short.contract.right
        long_k, short_k = long.contract.strike, short.contract.strike
        beyond = max(0.0, long_k - short_k if right == "C" else short_k - long_k)
        allowed = [
            q
            for q in scanner.otm_side(chain, expiry, right, view.spot)
            if (
                q.contract.strike >= long_k - beyond - 1e-9
                if right == "C"
                else q.contract.strike <= long_k + beyond + 1e-9
            )
        ]
        target = (cfg.short_delta_min + cfg.short_delta_max) / 2.0
        pick = scanner.pick_short(cfg, allowed, target)
        if pick is None:
            side, edge = ("above", long_k - beyond) if right == "C" else ("below", long_k + beyond)
            band = f"{cfg.short_delta_min:.2f}–{cfg.short_delta_max:.2f}"
            return None, f"no OTM {right} on {expiry} at or {side} {edge:g} with |Δ| in {band}"
        return Leg(pick.contract, "SELL"), ""
