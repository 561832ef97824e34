"""Quote mechanics of simulated options: bid/ask widths, open interest and volume (vectorised).

Everything here is a pure function of its inputs; per-contract randomness comes from a hash of
the seed and the contract (listing, expiry, strike, right), so a contract's open interest is the
same whichever way it is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri

from seeker.core.sim.settings import SimLiquiditySettings, SimQuoteSettings

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
DAYS_PER_OI_KNOT = 7
"""Open interest drifts between weekly knots of contract-specific noise."""


_M64 = 0xFFFFFFFFFFFFFFFF


def _splitmix(x: np.ndarray) -> np.ndarray:
    """Return the splitmix64 finaliser of uint64 values (wrapping arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


def _splitmix_inplace(z: np.ndarray) -> np.ndarray:
    """Apply the splitmix64 finaliser to a uint64 array in place and return it."""
    t = np.empty_like(z)
    np.add(z, _GOLDEN, out=z)
    np.right_shift(z, _S30, out=t)
    np.bitwise_xor(z, t, out=z)
    np.multiply(z, _MIX1, out=z)
    np.right_shift(z, _S27, out=t)
    np.bitwise_xor(z, t, out=z)
    np.multiply(z, _MIX2, out=z)
    np.right_shift(z, _S31, out=t)
    np.bitwise_xor(z, t, out=z)
    return z


def _splitmix_int(x: int) -> int:
    """Return the splitmix64 finaliser of one unsigned 64-bit value (python ints)."""
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _to_normal(h: np.ndarray) -> np.ndarray:
    """Return standard normal numbers from uint64 hashes (their top 53 bits, inverse CDF)."""
    u = (h >> _S11).astype(np.float64)
    u += 0.5
    u /= float(2**53)
    return ndtri(u)


def hash_normal(seed: int, *keys: np.ndarray) -> np.ndarray:
    """Return standard normal numbers determined by the seed and integer keys (broadcast)."""
    arrays = np.broadcast_arrays(*(np.asarray(k).astype(np.int64).view(np.uint64) for k in keys))
    h = np.full(arrays[0].shape, np.uint64(seed & _M64), dtype=np.uint64)
    for key in arrays:
        h = _splitmix(h ^ key)
    return _to_normal(h)


def contract_noise(
    seed: int,
    listing_key: int,
    expiry_ord: int,
    strikes: np.ndarray,
    is_call: np.ndarray,
    knots: Sequence[int],
    base: bool = True,
) -> tuple[np.ndarray | None, list[np.ndarray]]:
    """Return the contracts' base noise (None unless `base`) and their drift noise at `knots`.

    The same numbers as ``hash_normal(seed, listing_key, expiry_ord, cents, right, 1)`` and
    ``hash_normal(..., right, 2, knot)``, with the hash of the shared key prefix computed once;
    `strikes` and `is_call` broadcast.
    """
    h0 = _splitmix_int(_splitmix_int((seed & _M64) ^ listing_key) ^ expiry_ord)
    cents = np.rint(strikes * 100.0).astype(np.int64).view(np.uint64)
    h = _splitmix_inplace(cents ^ np.uint64(h0))
    h = _splitmix_inplace(h ^ np.asarray(is_call).astype(np.uint64))
    first = 1 if base else 0
    count = first + len(knots)
    k = np.empty((count + 1, *h.shape), dtype=np.uint64)  # row `count`: the drift key prefix
    np.bitwise_xor(h, np.uint64(2), out=k[count])
    if base:
        np.bitwise_xor(h, np.uint64(1), out=k[0])
        _splitmix_inplace(k[0::count])
    else:
        _splitmix_inplace(k[count])
    for n, knot in enumerate(knots):
        np.bitwise_xor(k[count], np.uint64(knot), out=k[first + n])
    _splitmix_inplace(k[first:count])
    z = _to_normal(k[:count])
    return (z[0] if base else None), list(z[first:])


def noisy_open_interest(
    median: np.ndarray,
    base: np.ndarray,
    d0: np.ndarray,
    d1: np.ndarray,
    w: float,
    liq: SimLiquiditySettings,
) -> np.ndarray:
    """Return open interest from its median, the base noise and the two drift knots around today.

    `w` is today's place between the knots (0 at the first).
    """
    drift = (1.0 - w) * d0 + w * d1
    return np.floor(median * np.exp(liq.oi_noise * base + liq.oi_drift * drift))


def oi_knot(day_ordinal: int) -> tuple[int, float]:
    """Return the drift knot at or before a day and the day's place (0..1) towards the next."""
    knot, frac = divmod(day_ordinal, DAYS_PER_OI_KNOT)
    return knot, frac / DAYS_PER_OI_KNOT


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
    monthly: np.ndarray | bool,
    typical: float,
    liq: SimLiquiditySettings,
    factor: np.ndarray | None = None,
) -> np.ndarray:
    """Return the median open interest of contracts (before contract-specific noise).

    ``k_ref`` is the standardized log-moneyness at the previous close; ``typical`` the listing's
    at-the-money monthly open interest; ``factor`` the strikes' ``strike_factor`` if known.
    """
    peak = np.exp(-0.5 * (k_ref / liq.oi_moneyness_width) ** 2)
    expiry = np.where(monthly, 1.0, liq.weekly_oi_factor)
    if factor is None:
        factor = strike_factor(strikes, liq)
    return typical * peak * expiry * factor


def open_interest(
    seed: int,
    listing_key: int,
    day_ordinal: int,
    expiry_ord: int,
    strikes: np.ndarray,
    is_call: np.ndarray,
    median: np.ndarray,
    liq: SimLiquiditySettings,
) -> np.ndarray:
    """Return open interest per contract: its median × lognormal contract noise × slow drift.

    Contracts of one expiry; `strikes`, `is_call` and `median` broadcast together.
    """
    knot, w = oi_knot(day_ordinal)
    base, (d0, d1) = contract_noise(
        seed, listing_key, expiry_ord, strikes, is_call, (knot, knot + 1)
    )
    assert base is not None
    return noisy_open_interest(median, base, d0, d1, w, liq)


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
    half = 0.5 * width
    ticks = np.empty((2, *np.shape(theo)))
    bid_ticks, ask_ticks = ticks
    np.rint(np.divide(theo - half, tick, out=bid_ticks), out=bid_ticks)
    np.maximum(bid_ticks, 0.0, out=bid_ticks)
    np.rint(np.divide(theo + half, tick, out=ask_ticks), out=ask_ticks)
    np.maximum(ask_ticks, bid_ticks + 1.0, out=ask_ticks)
    # np.round(x, 8) is rint(x × 1e8) / 1e8
    np.multiply(ticks, tick, out=ticks)
    np.multiply(ticks, 1e8, out=ticks)
    np.rint(ticks, out=ticks)
    np.divide(ticks, 1e8, out=ticks)
    return bid_ticks, ask_ticks
