"""Settings of the simulated market (the ``[sim]`` table of the config).

Nothing that shapes the market has a default: every value is written out in the TOML. The one
exception is ``SimListingSettings.follows``: TOML cannot write "none", so an absent key means the
listing follows no other listing. Rates are per year, volatilities per 1.00 per year, prices in the
listing's currency per share, durations in sessions.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

REGIMES: tuple[str, ...] = ("calm", "trend_up", "trend_down", "stress")
"""The market regimes, in the order the simulation indexes them."""

FOLLOWER_SPOT_TOLERANCE = 0.03
"""How far (relative) a follower's configured spot may sit from twin spot × USD.CAD."""


class SimModel(BaseModel):
    """Base of every sim settings model: unknown keys, mistyped values and inf/NaN are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class SimRegimeSettings(SimModel):
    """How the market behaves in one regime (a Markov chain switches between regimes daily)."""

    mean_duration_sessions: float = Field(ge=1.0, le=1000.0)
    """Mean length of a stay in this regime, in sessions (the chain leaves with chance 1/this)."""
    entry_weight: float = Field(gt=0.0, le=100.0)
    """Relative chance that this regime is the next one when the chain leaves another regime."""
    drift_per_year: float = Field(ge=-5.0, le=5.0)
    """Drift of the market factor, log-return per year."""
    vol_multiplier: float = Field(gt=0.0, le=10.0)
    """Multiplier of every realised volatility (market, sector, idiosyncratic)."""
    iv_multiplier: float = Field(gt=0.0, le=10.0)
    """Multiplier of the long-run ATM implied vol level."""
    gap_probability: float = Field(ge=0.0, le=1.0)
    """Chance per session of an overnight gap of the market factor."""
    gap_size: float = Field(ge=0.0, le=1.0)
    """Standard deviation of a gap, as a log-return of the market factor."""
    term_slope: float = Field(ge=-2.0, le=2.0)
    """Relative ATM IV change per year of expiry beyond 30 days (> 0 contango, < 0 inverted)."""
    skew: float = Field(ge=0.0, le=1.0)
    """Put skew: relative IV rise per unit of falling standardized log-moneyness ln(K/F)/(σ√T)."""
    spread_multiplier: float = Field(gt=0.0, le=20.0)
    """Multiplier of option bid/ask widths."""
    volume_multiplier: float = Field(gt=0.0, le=20.0)
    """Multiplier of option volume."""


class SimRegimesSettings(SimModel):
    """The four regimes, each required."""

    calm: SimRegimeSettings
    trend_up: SimRegimeSettings
    trend_down: SimRegimeSettings
    stress: SimRegimeSettings

    def ordered(self) -> tuple[SimRegimeSettings, ...]:
        """Return the regimes in the order of :data:`REGIMES`."""
        return tuple(getattr(self, name) for name in REGIMES)


class SimFactorSettings(SimModel):
    """The factor model of underlying returns (before regime multipliers)."""

    market_vol: float = Field(gt=0.0, le=2.0)
    """Volatility of the market factor, per year."""
    sector_vol: float = Field(ge=0.0, le=2.0)
    """Volatility of each sector factor, per year."""
    overnight_variance_share: float = Field(ge=0.0, lt=1.0)
    """Share of a session's return variance that arrives overnight (close to next open)."""
    trend_vol: float = Field(ge=0.0, le=5.0)
    """Standard deviation of each listing's own slow drift, log-return per year."""
    trend_half_life_sessions: float = Field(gt=0.0, le=10000.0)
    """Half-life of each listing's own drift, in sessions."""


class SimVolSettings(SimModel):
    """The implied-volatility surface and its dynamics."""

    mean_reversion_per_year: float = Field(gt=0.0, le=100.0)
    """Speed at which IV deviations decay, per year; also the term structure's shape (a deviation
    weighs (1 − e^(−κT)) / (κT) on an expiry T years out, relative to 30 days)."""
    vol_of_vol: float = Field(ge=0.0, le=10.0)
    """Volatility of the log ATM IV factor, per √year."""
    spot_sensitivity: float = Field(ge=0.0, le=10.0)
    """Log-IV rise per unit of return shock / the regime's ATM IV (spot down ⇒ IV up)."""
    market_correlation: float = Field(ge=0.0, le=1.0)
    """Correlation of the IV shocks of any two listings (their common part)."""
    regime_half_life_sessions: float = Field(gt=0.0, le=100.0)
    """Half-life, in sessions, over which IV level, term slope, skew and spreads follow a regime."""
    smile_curvature: float = Field(ge=0.0, le=1.0)
    """Relative IV rise per squared unit of standardized log-moneyness."""
    moneyness_clip: float = Field(gt=0.0, le=10.0)
    """Standardized log-moneyness beyond which the smile is flat."""
    min_iv: float = Field(gt=0.0, le=1.0)
    """Lowest implied vol the surface may show, per 1.00."""
    max_iv: float = Field(gt=0.0, le=10.0)
    """Highest implied vol the surface may show, per 1.00."""

    @model_validator(mode="after")
    def _ordered_bounds(self) -> SimVolSettings:
        if self.min_iv >= self.max_iv:
            raise ValueError(f"min_iv ({self.min_iv}) must be below max_iv ({self.max_iv})")
        return self


class SimQuoteSettings(SimModel):
    """How bid/ask quotes are built around the theoretical values."""

    underlying_spread: float = Field(gt=0.0, le=1.0)
    """Bid/ask width of an underlying, $ per share."""
    option_tick: float = Field(gt=0.0, le=0.1)
    """Price grid of option quotes, $ per share."""
    wing_widening: float = Field(ge=0.0, le=10.0)
    """Relative widening of an option's bid/ask per unit of |standardized log-moneyness|."""
    cheap_option_width: float = Field(gt=0.0, le=1.0)
    """Bid/ask width of a worthless option; no option is wider than this plus its value, $."""
    size_per_open_interest: float = Field(gt=0.0, le=1.0)
    """Displayed bid/ask size as a fraction of the contract's open interest (at least 1)."""


class SimLiquiditySettings(SimModel):
    """Open interest and volume of option contracts."""

    oi_moneyness_width: float = Field(gt=0.0, le=10.0)
    """Width (standardized log-moneyness) of the open-interest peak around the money."""
    oi_round_strike_factor: float = Field(gt=0.0, le=10.0)
    """Open-interest multiplier of strikes that are multiples of 5."""
    oi_half_strike_factor: float = Field(gt=0.0, le=10.0)
    """Open-interest multiplier of strikes that are not whole numbers (e.g. 45.5)."""
    weekly_oi_factor: float = Field(gt=0.0, le=10.0)
    """Open-interest multiplier of weekly expiries (monthlies are 1)."""
    oi_noise: float = Field(ge=0.0, le=3.0)
    """Lognormal dispersion of open interest between contracts."""
    oi_drift: float = Field(ge=0.0, le=3.0)
    """Lognormal dispersion of a contract's slow week-to-week open-interest drift."""
    volume_noise: float = Field(ge=0.0, le=3.0)
    """Lognormal dispersion of a chain's daily volume from day to day."""
    volume_u_shape: float = Field(ge=0.0, lt=1.0)
    """Intraday U-shape of volume: 0 flat, 0.6 means 2.2× the mean rate at open and close."""
    volume_moneyness_width: float = Field(gt=0.0, le=10.0)
    """Width (standardized log-moneyness) around the money where volume concentrates."""


class SimListingSettings(SimModel):
    """How one listing of the universe behaves in the simulation."""

    spot: float = Field(gt=0.0, le=100000.0)
    """Price at the open of the first simulated session (the history leads up to it)."""
    base_iv: float = Field(gt=0.0, le=3.0)
    """Long-run 30-day ATM implied vol in a neutral regime, per 1.00."""
    beta: float = Field(ge=-3.0, le=3.0)
    """Loading on the market factor (0 for a follower: it moves with its twin)."""
    sector_loading: float = Field(ge=-3.0, le=3.0)
    """Loading on its sector's factor (0 for a follower)."""
    idio_vol: float = Field(ge=0.0, le=3.0)
    """Idiosyncratic volatility per year; for a follower, the non-accumulating tracking noise."""
    option_spread: float = Field(gt=0.0, le=5.0)
    """Typical bid/ask width of an at-the-money option, $ per share."""
    open_interest: int = Field(ge=0, le=10_000_000)
    """Typical open interest of an at-the-money monthly strike."""
    chain_volume: int = Field(ge=0, le=100_000_000)
    """Typical option volume of the whole chain per day."""
    follows: str | None = None
    """A US listing this Canadian listing mirrors through USD.CAD; absent means none."""

    @model_validator(mode="after")
    def _follower_has_no_factor_loadings(self) -> SimListingSettings:
        if self.follows is not None and (self.beta != 0.0 or self.sector_loading != 0.0):
            raise ValueError(
                "a follower moves with its twin: beta and sector_loading must be 0 "
                f"(got {self.beta} and {self.sector_loading})"
            )
        return self


class SimSettings(SimModel):
    """The embedded simulated market."""

    seed: int = Field(ge=0)
    """Seed of every random draw; the same seed gives the same market."""
    speed: float = Field(gt=0.0, le=1_000_000.0)
    """Simulated seconds per wall-clock second during regular hours."""
    start: date
    """First simulated session (the next session if this day is not one)."""
    history_sessions: int = Field(ge=80, le=2520)
    """Sessions of history generated before the start, per listing calendar."""
    steps_per_session: int = Field(ge=1, le=78)
    """Equal price steps from each session's open to its close."""
    weekly_expiry_weeks: int = Field(ge=1, le=12)
    """Weekly expiries listed, in weeks ahead."""
    monthly_expiry_days: int = Field(ge=120, le=1100)
    """Monthly expiries listed out to at least this many calendar days."""
    usd_cad: float = Field(gt=0.5, le=3.0)
    """USD.CAD (CAD per USD) at the open of the first simulated session."""
    usd_cad_vol: float = Field(ge=0.0, le=1.0)
    """Volatility of USD.CAD, per year."""
    usd_cad_spread_pips: float = Field(gt=0.0, le=100.0)
    """Bid/ask width of USD.CAD, in pips (0.0001)."""
    usd_cad_market_correlation: float = Field(ge=-1.0, le=1.0)
    """Correlation of USD.CAD returns with the market factor (< 0: risk-off lifts the USD)."""
    fill_probability_at_mid: float = Field(gt=0.0, le=1.0)
    """Chance per step that a limit order at mid fills (used by the SimBroker)."""
    factors: SimFactorSettings
    iv: SimVolSettings
    quotes: SimQuoteSettings
    liquidity: SimLiquiditySettings
    regimes: SimRegimesSettings
    listings: dict[str, SimListingSettings] = Field(min_length=1)

    @model_validator(mode="after")
    def _followers_resolve(self) -> SimSettings:
        for lid, cfg in self.listings.items():
            twin_id = cfg.follows
            if twin_id is None:
                continue
            twin = self.listings.get(twin_id)
            if twin is None:
                raise ValueError(f"listing {lid!r} follows {twin_id!r}, which has no sim settings")
            if twin.follows is not None:
                raise ValueError(f"listing {lid!r} follows {twin_id!r}, itself a follower")
            implied = twin.spot * self.usd_cad
            if abs(cfg.spot / implied - 1.0) > FOLLOWER_SPOT_TOLERANCE:
                raise ValueError(
                    f"listing {lid!r}: spot {cfg.spot} is far from {twin_id} spot × usd_cad "
                    f"= {implied:.2f} (a follower's price is derived from its twin)"
                )
        return self
