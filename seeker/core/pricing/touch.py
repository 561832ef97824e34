"""Risk-neutral probabilities of touching a strike before expiry and of expiring beyond it."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import log_ndtr, ndtr

from seeker.core.pricing._common import (
    FloatArray,
    _as_float_arrays,
    _sign,
)


def prob_touch(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """Return the risk-neutral probability that spot touches K before T (T in years).

    First passage of ln S under GBM with drift ``r - q - sigma²/2`` per year (reflection
    principle), for K above or below S: with ``a = |ln(K/S)|`` and ``nu`` the drift
    towards K, ``P = N((nu T - a)/(sigma √T)) + e^{2 nu a / sigma²} N((-nu T - a)/(sigma √T))``.
    1.0 when S == K. ``T <= 0``: 1.0 only if S == K. ``sigma <= 0``: 1.0 if the
    deterministic path reaches K by T, else 0.0.
    """
    shape, (S_, K_, T_, r_, v_, q_) = _as_float_arrays(S, K, T, r, sigma, q)
    with np.errstate(all="ignore"):
        lk = np.log(K_ / S_)
        a = np.abs(lk)
        direction = np.sign(lk)
        nu = (r_ - q_ - 0.5 * v_ * v_) * direction
        vt = v_ * np.sqrt(T_)
        nut = nu * T_
        p = ndtr((nut - a) / vt) + np.exp(2.0 * nu * a / (v_ * v_) + log_ndtr((-nut - a) / vt))
        p = np.clip(p, 0.0, 1.0)
        novol = (v_ <= 0.0) & (T_ > 0.0)
        if novol.any():
            reach = ((r_ - q_) * direction * T_ >= a).astype(np.float64)
            p = np.where(novol, reach, p)
        p = np.where(T_ <= 0.0, 0.0, p)
        p = np.where(a == 0.0, 1.0, p)
        p = np.where(np.isnan(lk) | np.isnan(T_) | np.isnan(v_) | np.isnan(nu), np.nan, p)
    return p.reshape(shape)


def prob_beyond(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """Return the risk-neutral probability of expiring beyond K: N(d2) calls, N(-d2) puts.

    ``T <= 0``: 1.0 if S is strictly beyond K now, else 0.0. ``sigma <= 0``: 1.0 if the
    forward ``S e^{(r-q)T}`` is strictly beyond K, else 0.0.
    """
    w = _sign(is_call)
    shape, (S_, K_, T_, r_, v_, q_, w) = _as_float_arrays(S, K, T, r, sigma, q, w)
    with np.errstate(all="ignore"):
        drift = np.log(S_ / K_) + (r_ - q_) * T_  # ln(F/K)
        vt = v_ * np.sqrt(T_)
        p = ndtr(w * (drift / vt - 0.5 * vt))
        degenerate = (T_ <= 0.0) | (v_ <= 0.0)
        if degenerate.any():
            moneyness = np.where(T_ <= 0.0, np.log(S_ / K_), drift)
            p = np.where(degenerate, (w * moneyness > 0.0).astype(np.float64), p)
    return p.reshape(shape)
