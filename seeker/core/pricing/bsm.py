"""Black-Scholes-Merton price and greeks, vectorised, in blocks of scratch rows."""

from __future__ import annotations

import math
import threading

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from seeker.core.pricing._common import (
    _BLOCK,
    _GREEK_KEYS,
    _INV_SQRT_2PI,
    FloatArray,
    _flat_call,
    _flat_operand,
    _scratch,
)

_ROWS = threading.local()


def _rows() -> list[FloatArray]:
    """Return this thread's 8 scratch rows of ``_BLOCK`` values for ``_bsm_rows`` (made once).

    Apart from the shared pool: ``_bsm_chunk`` slices them to its length itself, so a small call
    takes them as they are.
    """
    rows: list[FloatArray] | None = getattr(_ROWS, "rows", None)
    if rows is None:
        rows = _ROWS.rows = [np.empty(_BLOCK) for _ in range(8)]
    return rows


def _bsm_chunk(
    S: FloatArray | float,
    K: FloatArray | float,
    T: FloatArray | float,
    r: FloatArray | float,
    v: FloatArray | float,
    call: NDArray[np.bool_] | bool,
    q: FloatArray | float,
    out: dict[str, FloatArray],
    buf: list[FloatArray],
) -> None:
    """Write price (and greeks when ``out`` has them) for one chunk; no allocation.

    ``buf`` holds 8 float scratch rows, each at least the chunk long. Every operation
    writes into ``out`` or ``buf``, so the working set stays in cache and no page is
    touched twice.
    """
    price = out["price"]
    n = price.shape[0]
    sqt, vt, sq, kr, d1, d2, n1, w_row = (row[:n] for row in buf)
    w: FloatArray | float
    if isinstance(call, bool):
        w = 1.0 if call else -1.0
    else:
        w = w_row
        np.multiply(call, 2.0, out=w)
        np.subtract(w, 1.0, out=w)  # +1 calls, -1 puts
    np.sqrt(T, out=sqt)
    np.multiply(v, sqt, out=vt)  # sigma sqrt(T)
    np.multiply(q, T, out=sq)
    np.exp(sq, out=sq)
    np.divide(S, sq, out=sq)  # S e^{-qT}
    np.multiply(r, T, out=kr)
    np.exp(kr, out=kr)
    np.divide(K, kr, out=kr)  # K e^{-rT}
    np.divide(sq, kr, out=d1)
    np.log(d1, out=d1)
    np.divide(d1, vt, out=d1)
    np.multiply(vt, 0.5, out=d2)
    np.add(d1, d2, out=d1)  # d1 = ln(F/K) / (sigma sqrt(T)) + sigma sqrt(T) / 2
    np.subtract(d1, vt, out=d2)  # d2
    np.multiply(w, d1, out=n1)
    ndtr(n1, out=n1)  # N(w d1)
    np.multiply(w, d2, out=d2)
    ndtr(d2, out=d2)  # N(w d2)
    np.multiply(sq, n1, out=n1)
    np.multiply(n1, w, out=n1)  # wA = w S e^{-qT} N(w d1)
    np.multiply(kr, d2, out=kr)
    np.multiply(kr, w, out=kr)  # wB = w K e^{-rT} N(w d2)
    np.subtract(n1, kr, out=price)
    if len(out) == 1:
        return
    delta, gamma, vega, theta, rho = (out[key] for key in _GREEK_KEYS)
    np.divide(n1, S, out=delta)  # w e^{-qT} N(w d1)
    np.multiply(kr, T, out=rho)  # w K T e^{-rT} N(w d2)
    np.multiply(n1, q, out=n1)
    np.multiply(kr, r, out=kr)
    np.subtract(n1, kr, out=n1)  # carry part of theta: q wA - r wB
    np.multiply(d1, d1, out=d2)
    np.multiply(d2, -0.5, out=d2)
    np.exp(d2, out=d2)
    np.multiply(sq, d2, out=sq)
    np.multiply(sq, _INV_SQRT_2PI, out=sq)  # S e^{-qT} n(d1)
    np.multiply(sq, sqt, out=vega)
    np.divide(sq, sqt, out=theta)  # S e^{-qT} n(d1) / sqrt(T)
    np.multiply(S, v, out=d2)
    np.multiply(d2, S, out=d2)
    np.divide(theta, d2, out=gamma)  # e^{-qT} n(d1) / (S sigma sqrt(T))
    np.multiply(theta, v, out=theta)
    np.multiply(theta, -0.5, out=theta)
    np.add(theta, n1, out=theta)


def _pick(a: FloatArray | float | NDArray[np.bool_] | bool, m: NDArray[np.bool_]) -> np.ndarray:
    """Index a flat operand by a mask, broadcasting scalars to the selection."""
    if isinstance(a, float | bool):
        return np.full(int(np.count_nonzero(m)), a)
    return a[m]


def _any_le_zero(a: FloatArray | float) -> bool:
    """Return whether any value is <= 0 (NaN is not)."""
    if isinstance(a, float):
        return a <= 0.0
    return bool(np.less_equal(a, 0.0).any())


def _fix_edges(
    res: dict[str, FloatArray],
    S: FloatArray | float,
    K: FloatArray | float,
    T: FloatArray | float,
    r: FloatArray | float,
    sigma: FloatArray | float,
    call: NDArray[np.bool_] | bool,
    q: FloatArray | float,
) -> None:
    """Overwrite expired and zero-volatility entries with their limits, in place."""
    if not (_any_le_zero(T) or _any_le_zero(sigma)):
        return
    n = res["price"].shape[0]
    expired = np.broadcast_to(np.less_equal(T, 0.0), (n,))
    novol = np.broadcast_to(np.less_equal(sigma, 0.0), (n,))
    greeks = len(res) > 1
    m = novol & ~expired
    if m.any():
        s, k, t, rr, qq = (_pick(a, m) for a in (S, K, T, r, q))
        ww = np.where(_pick(call, m), 1.0, -1.0)
        sq = s * np.exp(-qq * t)
        kr = k * np.exp(-rr * t)
        fwd = ww * (sq - kr)
        itm = fwd > 0.0
        res["price"][m] = np.where(itm, fwd, 0.0)
        if greeks:
            res["delta"][m] = np.where(itm, ww * sq / s, 0.0)
            res["gamma"][m] = 0.0
            res["vega"][m] = 0.0
            res["theta"][m] = np.where(itm, ww * (qq * sq - rr * kr), 0.0)
            res["rho"][m] = np.where(itm, ww * t * kr, 0.0)
    if expired.any():
        s, k = (_pick(a, expired) for a in (S, K))
        ww = np.where(_pick(call, expired), 1.0, -1.0)
        payoff = ww * (s - k)
        res["price"][expired] = np.maximum(payoff, 0.0)
        if greeks:
            res["delta"][expired] = np.where(payoff > 0.0, ww, 0.0)
            for key in ("gamma", "vega", "theta", "rho"):
                res[key][expired] = 0.0


def _bsm_rows(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    q: ArrayLike,
    greeks: bool,
) -> dict[str, FloatArray] | None:
    """Price one block of rows given as python floats and 1-D float64 arrays of one length.

    The small-call fast path of ``_bsm`` (same operations, none of the broadcasting and
    chunking set-up); None when the inputs are in any other form.
    """
    n = -1
    for a in (S, K, T, r, sigma, q):
        if type(a) is float:
            continue
        if type(a) is not np.ndarray or a.dtype != np.float64 or a.ndim != 1:
            return None
        if n < 0:
            n = a.shape[0]
        elif a.shape[0] != n:
            return None
    if not 0 < n <= _BLOCK:
        return None
    if type(is_call) is not np.ndarray or is_call.dtype != np.bool_ or is_call.shape != (n,):
        return None
    keys = ("price", *_GREEK_KEYS) if greeks else ("price",)
    res = dict(zip(keys, np.empty((len(keys), n)), strict=True))
    args = (S, K, T, r, sigma, is_call, q)
    with np.errstate(all="ignore"):
        _bsm_chunk(*args, res, _rows())  # type: ignore[arg-type]
        _fix_edges(res, *args)  # type: ignore[arg-type]
    return res


def _bsm(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    q: ArrayLike,
    greeks: bool,
    out: dict[str, FloatArray] | None = None,
) -> dict[str, FloatArray]:
    """Price (and greeks) in cache-sized chunks; see the module docstring for edge cases."""
    if out is None:
        rows = _bsm_rows(S, K, T, r, sigma, is_call, q, greeks)
        if rows is not None:
            return rows
    arrs = [np.asarray(a, dtype=np.float64) for a in (S, K, T, r, sigma)]
    call_in = np.asarray(is_call, dtype=bool)
    q_in = np.asarray(q, dtype=np.float64)
    shape = np.broadcast_shapes(*(a.shape for a in arrs), q_in.shape, call_in.shape)
    size = math.prod(shape)
    flat: list[FloatArray | float | NDArray[np.bool_] | bool]
    flat = [_flat_operand(a, shape, size) for a in arrs]
    flat.append(_flat_call(call_in, shape, size))
    flat.append(_flat_operand(q_in, shape, size))
    keys = ("price", *_GREEK_KEYS) if greeks else ("price",)
    if out is None:
        block = np.empty((len(keys), size))
        res = dict(zip(keys, block, strict=True))
    else:
        res = {}
        for key in keys:
            arr = out[key]
            if arr.shape != shape or arr.dtype != np.float64 or not arr.flags.c_contiguous:
                raise ValueError(f"out[{key!r}] must be a C-contiguous float64 array of {shape}")
            res[key] = arr.reshape(size)
    if size:
        ws = _scratch()
        buf = [ws.f(min(_BLOCK, size)) for _ in range(8)]
        with np.errstate(all="ignore"):
            for start in range(0, size, _BLOCK):
                stop = min(start + _BLOCK, size)
                args = [a if isinstance(a, float | bool) else a[start:stop] for a in flat]
                chunk_out = {key: val[start:stop] for key, val in res.items()}
                _bsm_chunk(*args, chunk_out, buf)
            _fix_edges(res, *flat)
    if out is not None:
        return {key: out[key] for key in keys}
    return {key: val.reshape(shape) for key, val in res.items()}


def bs_price(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """Price European options under Black-Scholes-Merton (T, r, q per year; sigma per 1.00)."""
    return _bsm(S, K, T, r, sigma, is_call, q, greeks=False)["price"]


def bs_price_greeks(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    q: ArrayLike = 0.0,
    *,
    out: dict[str, FloatArray] | None = None,
) -> dict[str, FloatArray]:
    """Return price and greeks in one pass: keys ``price`` plus those of ``bs_greeks``.

    Pass ``out`` (a dict of C-contiguous float64 arrays of the broadcast shape for all six
    keys) to reuse buffers across calls, e.g. one per simulator step: no allocation then.
    """
    return _bsm(S, K, T, r, sigma, is_call, q, greeks=True, out=out)


def bs_greeks(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    q: ArrayLike = 0.0,
) -> dict[str, FloatArray]:
    """Return greeks: delta, gamma (per unit of S), vega (per 1.00 vol), theta (per year), rho.

    ``theta`` is dPrice/dt in calendar time (= -dPrice/dT), per year; ``rho`` is per 1.00
    of rate; ``vega`` is dPrice/dsigma per 1.00 of volatility.
    """
    out = _bsm(S, K, T, r, sigma, is_call, q, greeks=True)
    return {key: out[key] for key in _GREEK_KEYS}
