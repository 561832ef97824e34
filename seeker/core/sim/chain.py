"""Quote mechanics of simulated options: bid/ask widths, open interest and volume (vectorised).

Everything here is a pure function of its inputs; per-contract randomness comes from a hash of
the seed and the contract (listing, expiry, strike, right), so a contract's open interest is the
same whichever way it is asked for.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from seeker.core.sim.settings import SimLiquiditySettings, SimQuoteSettings

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
DAYS_PER_OI_KNOT = 7
"""Open interest drifts between weekly knots of contract-specific noise."""


def _splitmix(x: np.ndarray) -> np.ndarray:
    """Return the splitmix64 finaliser of uint64 values (wrapping arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


def hash_normal(seed: int, *keys: np.ndarray) -> np.ndarray:
    """Return standard normal numbers determined by the seed and integer keys (broadcast)."""
    arrays = np.broadcast_arrays(*(np.asarray(k).astype(np.int64).view(np.uint64) for k in keys))
    h = np.full(arrays[0].shape, np.uint64(seed & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    for key in arrays:
        h = _splitmix(h ^ key)
    u = ((h >> _S11).astype(np.float64) + 0.5) / float(2**53)
    return ndtri(u)


def strike_factor(strikes: np.ndarray, liq: SimLiquiditySettings) -> np.ndarray:
    """Return the open-interest multiplier of round (×5) and fractional strikes."""
    cents = np.rint(strikes * 100.0).astype(np.int64)
    out = np.ones(strikes.shape)
    out[cents % 500 == 0] = liq.oi_round_strike_factor
    out[cents % 100 != 0] = liq.oi_half_strike_factor
    return out


def typical_open_interest(
    strikes: np.ndarray,
    k_ref: np.ndarray,
    monthly: np.ndarray,
    typical: float,
    liq: SimLiquiditySettings,
) -> np.ndarray:
    """Return the median open interest of contracts (before contract-specific noise).

    ``k_ref`` is the standardized log-moneyness at the previous close; ``typical`` the listing's
    at-the-money monthly open interest.
    """
    peak = np.exp(-0.5 * (k_ref / liq.oi_moneyness_width) ** 2)
    expiry = np.where(monthly, 1.0, liq.weekly_oi_factor)
    return typical * peak * expiry * strike_factor(strikes, liq)


def open_interest(
    seed: int,
    listing_key: int,
    day_ordinal: int,
    expiry_ord: np.ndarray,
    strikes: np.ndarray,
    is_call: np.ndarray,
    median: np.ndarray,
    liq: SimLiquiditySettings,
) -> np.ndarray:
    """Return open interest per contract: its median × lognormal contract noise × slow drift."""
    cents = np.rint(strikes * 100.0).astype(np.int64)
    right = is_call.astype(np.int64)
    base = hash_normal(seed, listing_key, expiry_ord, cents, right, 1)
    knot, frac = divmod(day_ordinal, DAYS_PER_OI_KNOT)
    w = frac / DAYS_PER_OI_KNOT
    d0 = hash_normal(seed, listing_key, expiry_ord, cents, right, 2, knot)
    d1 = hash_normal(seed, listing_key, expiry_ord, cents, right, 2, knot + 1)
    drift = (1.0 - w) * d0 + w * d1
    return np.floor(median * np.exp(liq.oi_noise * base + liq.oi_drift * drift))


def volume_weight(oi: np.ndarray, k_ref: np.ndarray, liq: SimLiquiditySettings) -> np.ndarray:
    """Return each contract's relative share of its chain's volume."""
    return (oi + 1.0) * np.exp(-0.5 * (k_ref / liq.volume_moneyness_width) ** 2)


def expected_volume_weight(
    median: np.ndarray, k_ref: np.ndarray, liq: SimLiquiditySettings
) -> np.ndarray:
    """Return the expected volume weight of contracts (their noise averaged out)."""
    mean_noise = np.exp(0.5 * (liq.oi_noise**2 + liq.oi_drift**2))
    return volume_weight(median * mean_noise, k_ref, liq)


def cumulative_volume_share(frac: float, u_shape: float) -> float:
    """Return the share of a day's volume traded by `frac` (0..1) of the session (U-shaped)."""
    f = min(max(frac, 0.0), 1.0)
    return f + u_shape * (((2.0 * f - 1.0) ** 3 + 1.0) / 2.0 - f)


def bid_ask(
    theo: np.ndarray,
    k: np.ndarray,
    option_spread: float,
    spread_mult: float,
    q: SimQuoteSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (bid, ask) on the tick grid around theoretical values, $ per share.

    Width = option_spread × regime multiplier × (1 + wing_widening × |k|), at most
    cheap_option_width + value, at least one tick; the bid is never negative and the ask at least
    one tick, so a worthless option quotes 0.00 / 0.01–0.02.
    """
    tick = q.option_tick
    width = option_spread * spread_mult * (1.0 + q.wing_widening * np.abs(k))
    width = np.maximum(np.minimum(width, q.cheap_option_width + theo), tick)
    bid_ticks = np.maximum(np.rint((theo - 0.5 * width) / tick), 0.0)
    ask_ticks = np.maximum(np.rint((theo + 0.5 * width) / tick), bid_ticks + 1.0)
    return np.round(bid_ticks * tick, 8), np.round(ask_ticks * tick, 8)
