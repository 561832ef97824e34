"""Tests for seeker.core.pricing: published values, identities, properties, Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from seeker.core.pricing import (
    bs_greeks,
    bs_price,
    bs_price_greeks,
    implied_vol,
    prob_beyond,
    prob_touch,
)

# Any RuntimeWarning (overflow, 0/0, log of 0, ...) leaking out of the module fails a test.
pytestmark = pytest.mark.filterwarnings("error")

EPS = float(np.finfo(np.float64).eps)
GREEKS = ("delta", "gamma", "vega", "theta", "rho")


# ---------------------------------------------------------------------------------------
# Published values
# ---------------------------------------------------------------------------------------


def test_hull_bsm_example() -> None:
    # Hull, "Options, Futures, and Other Derivatives", chapter "The Black-Scholes-Merton
    # Model", worked example (Example 15.6 in the 9th edition; numbering moves between
    # editions): S0 = 42, K = 40, r = 10 %, sigma = 20 %, T = 0.5 -> c = 4.76, p = 0.81.
    call, put = bs_price(42.0, 40.0, 0.5, 0.10, 0.20, np.array([True, False]))
    assert call == pytest.approx(4.76, abs=0.005)
    assert put == pytest.approx(0.81, abs=0.005)


def test_hull_greek_letters_example() -> None:
    # Hull, OFOD, chapter "The Greek Letters", running example (the bank's short call):
    # S0 = 49, K = 50, r = 5 %, sigma = 20 %, T = 20 weeks: delta 0.522, gamma 0.066,
    # vega 12.1 (per 1.00 of vol), theta -4.31 (per year), rho 8.91 (per 1.00 of rate).
    # The same book values are asserted in vollib's test_hull_book_values.
    g = bs_greeks(49.0, 50.0, 20.0 / 52.0, 0.05, 0.20, True)
    assert g["delta"] == pytest.approx(0.522, abs=0.0005)
    assert g["gamma"] == pytest.approx(0.066, abs=0.0005)
    assert g["vega"] == pytest.approx(12.1, abs=0.05)
    assert g["theta"] == pytest.approx(-4.31, abs=0.005)
    assert g["rho"] == pytest.approx(8.91, abs=0.005)


# Haug, "The Complete Guide to Option Pricing Formulas" (McGraw-Hill, 1998), generalized
# BSM values, pp. 2-8, 24 and 27, as transcribed in QuantLib's test-suite
# (europeanoption.cpp, testValues; tolerance 1e-4 there too). Columns: call?, S, K, q, r,
# T, sigma, value. Haug's cost of carry is b = r - q.
HAUG_VALUES = [
    (True, 60.0, 65.0, 0.00, 0.08, 0.25, 0.30, 2.1334),
    (False, 100.0, 95.0, 0.05, 0.10, 0.50, 0.20, 2.4648),  # Merton (1973) index option, p. 4
    (False, 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 1.56, 1.60, 0.08, 0.06, 0.50, 0.12, 0.0291),
    (False, 75.0, 70.0, 0.05, 0.10, 0.50, 0.35, 4.0870),  # generalized BSM, b = 0.05
    (True, 42.0, 40.0, 0.08, 0.04, 0.75, 0.35, 5.0975),
    # p. 24 table: K = 100, q = r = 0.10 (b = 0)
    (True, 90.0, 100.0, 0.10, 0.10, 0.10, 0.15, 0.0205),
    (True, 100.0, 100.0, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (True, 110.0, 100.0, 0.10, 0.10, 0.10, 0.15, 9.9413),
    (True, 90.0, 100.0, 0.10, 0.10, 0.10, 0.25, 0.3150),
    (True, 100.0, 100.0, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (True, 110.0, 100.0, 0.10, 0.10, 0.10, 0.25, 10.3556),
    (True, 90.0, 100.0, 0.10, 0.10, 0.10, 0.35, 0.9474),
    (True, 100.0, 100.0, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (True, 110.0, 100.0, 0.10, 0.10, 0.10, 0.35, 11.1381),
    (True, 90.0, 100.0, 0.10, 0.10, 0.50, 0.15, 0.8069),
    (True, 100.0, 100.0, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (True, 110.0, 100.0, 0.10, 0.10, 0.50, 0.15, 10.5769),
    (True, 90.0, 100.0, 0.10, 0.10, 0.50, 0.25, 2.7026),
    (True, 100.0, 100.0, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (True, 110.0, 100.0, 0.10, 0.10, 0.50, 0.25, 12.7857),
    (True, 90.0, 100.0, 0.10, 0.10, 0.50, 0.35, 4.9329),
    (True, 100.0, 100.0, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (True, 110.0, 100.0, 0.10, 0.10, 0.50, 0.35, 15.3086),
    (False, 90.0, 100.0, 0.10, 0.10, 0.10, 0.15, 9.9210),
    (False, 100.0, 100.0, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (False, 110.0, 100.0, 0.10, 0.10, 0.10, 0.15, 0.0408),
    (False, 90.0, 100.0, 0.10, 0.10, 0.10, 0.25, 10.2155),
    (False, 100.0, 100.0, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (False, 110.0, 100.0, 0.10, 0.10, 0.10, 0.25, 0.4551),
    (False, 90.0, 100.0, 0.10, 0.10, 0.10, 0.35, 10.8479),
    (False, 100.0, 100.0, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (False, 110.0, 100.0, 0.10, 0.10, 0.10, 0.35, 1.2376),
    (False, 90.0, 100.0, 0.10, 0.10, 0.50, 0.15, 10.3192),
    (False, 100.0, 100.0, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (False, 110.0, 100.0, 0.10, 0.10, 0.50, 0.15, 1.0646),
    (False, 90.0, 100.0, 0.10, 0.10, 0.50, 0.25, 12.2149),
    (False, 100.0, 100.0, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (False, 110.0, 100.0, 0.10, 0.10, 0.50, 0.25, 3.2734),
    (False, 90.0, 100.0, 0.10, 0.10, 0.50, 0.35, 14.4452),
    (False, 100.0, 100.0, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (False, 110.0, 100.0, 0.10, 0.10, 0.50, 0.35, 5.7963),
]


def test_haug_values_vectorised() -> None:
    call, S, K, q, r, T, sigma, value = (np.array(col) for col in zip(*HAUG_VALUES, strict=True))
    got = bs_price(S, K, T, r, sigma, call.astype(bool), q)
    np.testing.assert_allclose(got, value, rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    ("greek", "call", "S", "K", "q", "r", "T", "sigma", "value"),
    [
        # Haug (1998) pp. 11-16, as in QuantLib test-suite europeanoption.cpp testGreekValues.
        ("delta", True, 105.0, 100.0, 0.10, 0.10, 0.5, 0.36, 0.5946),
        ("delta", False, 105.0, 100.0, 0.10, 0.10, 0.5, 0.36, -0.3566),
        ("gamma", True, 55.0, 60.0, 0.00, 0.10, 0.75, 0.30, 0.0278),
        ("gamma", False, 55.0, 60.0, 0.00, 0.10, 0.75, 0.30, 0.0278),
        ("vega", True, 55.0, 60.0, 0.00, 0.10, 0.75, 0.30, 18.9358),
        ("vega", False, 55.0, 60.0, 0.00, 0.10, 0.75, 0.30, 18.9358),
        ("theta", False, 430.0, 405.0, 0.05, 0.07, 1.0 / 12.0, 0.20, -31.1924),
        ("rho", True, 72.0, 75.0, 0.00, 0.09, 1.0, 0.19, 38.7325),
    ],
)
def test_haug_greeks(
    greek: str,
    call: bool,
    S: float,
    K: float,
    q: float,
    r: float,
    T: float,
    sigma: float,
    value: float,
) -> None:
    got = bs_greeks(S, K, T, r, sigma, call, q)[greek]
    assert float(got) == pytest.approx(value, abs=1e-4)


def test_haug_theta_per_day() -> None:
    # Same source: the put's theta is -0.0855 per calendar day = -31.1924 / 365.
    theta = bs_greeks(430.0, 405.0, 1.0 / 12.0, 0.07, 0.20, False, 0.05)["theta"]
    assert float(theta) / 365.0 == pytest.approx(-0.0855, abs=1e-4)


# ---------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------

spots = st.floats(1.0, 1000.0)
log_moneyness = st.floats(math.log(0.3), math.log(3.0))  # ln(K/S)
expiries = st.floats(1.0 / 365.0, 5.0)
vols = st.floats(0.01, 3.0)
rates = st.floats(-0.02, 0.15)
yields = st.floats(0.0, 0.10)
flags = st.booleans()


def _otm_side(S: float, K: float, T: float, r: float, sigma: float, q: float) -> tuple[bool, float]:
    """Return (is_call, price) of the out-of-the-money option at this strike."""
    call = S * math.exp((r - q) * T) <= K
    return call, float(bs_price(S, K, T, r, sigma, call, q))


# ---------------------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=150)
@given(spots, log_moneyness, expiries, vols, rates, yields)
def test_put_call_parity(S: float, lk: float, T: float, v: float, r: float, q: float) -> None:
    K = S * math.exp(lk)
    c, p = bs_price(S, K, T, r, v, np.array([True, False]), q)
    parity = S * math.exp(-q * T) - K * math.exp(-r * T)
    assert c - p == pytest.approx(parity, abs=64 * EPS * max(S, K))


@settings(deadline=None, max_examples=150)
@given(
    spots,
    st.floats(math.log(0.6), math.log(1.6)),
    st.floats(0.05, 3.0),
    st.floats(0.05, 1.5),
    rates,
    yields,
    flags,
)
def test_greeks_match_finite_differences(
    S: float, lk: float, T: float, v: float, r: float, q: float, call: bool
) -> None:
    K = S * math.exp(lk)
    g = bs_greeks(S, K, T, r, v, call, q)

    def price(**kw: float) -> float:
        args = {"S": S, "K": K, "T": T, "r": r, "sigma": v, "q": q} | kw
        return float(bs_price(is_call=call, **args))

    width = v * math.sqrt(T)  # the scale on which the price curves, in ln S
    hs, hv, ht, hr = 1e-3 * S * min(1.0, width), 1e-5, 1e-6, 1e-6
    p0 = price()
    fd = {
        "delta": (price(S=S + hs) - price(S=S - hs)) / (2 * hs),
        "gamma": (price(S=S + hs) - 2 * p0 + price(S=S - hs)) / hs**2,
        "vega": (price(sigma=v + hv) - price(sigma=v - hv)) / (2 * hv),
        "theta": -(price(T=T + ht) - price(T=T - ht)) / (2 * ht),
        "rho": (price(r=r + hr) - price(r=r - hr)) / (2 * hr),
    }
    scale = {"delta": 1.0, "gamma": 1.0 / (S * width), "vega": S, "theta": S, "rho": S + K}
    for key in GREEKS:
        assert float(g[key]) == pytest.approx(fd[key], rel=1e-5, abs=1e-7 * scale[key]), key


@settings(deadline=None, max_examples=150)
@given(spots, log_moneyness, expiries, vols, rates, yields, flags)
def test_vega_gamma_relation_and_bsm_pde(
    S: float, lk: float, T: float, v: float, r: float, q: float, call: bool
) -> None:
    K = S * math.exp(lk)
    out = bs_price_greeks(S, K, T, r, v, call, q)
    price, delta, gamma, vega, theta = (float(out[k]) for k in ("price", *GREEKS[:4]))
    # vega = sigma T S² gamma, for calls and puts alike.
    assert vega == pytest.approx(v * T * S * S * gamma, rel=1e-12, abs=1e-300)
    # Black-Scholes PDE: theta + (r - q) S delta + sigma² S² gamma / 2 = r price.
    lhs = theta + (r - q) * S * delta + 0.5 * v * v * S * S * gamma
    scale = S + K + abs(theta) + 0.5 * v * v * S * S * gamma
    assert lhs == pytest.approx(r * price, abs=1e-12 * scale)


def test_price_greeks_agree_with_separate_calls_and_out_buffers() -> None:
    rng = np.random.default_rng(7)
    n = 40_011  # several blocks of the pricer plus a ragged tail
    S = rng.uniform(10, 500, n)
    K = S * rng.uniform(0.5, 1.5, n)
    T = rng.uniform(1 / 365, 2, n)
    v = rng.uniform(0.05, 1.5, n)
    r, q = 0.03, rng.uniform(0, 0.05, n)
    call = rng.random(n) < 0.5
    both = bs_price_greeks(S, K, T, r, v, call, q)
    np.testing.assert_array_equal(both["price"], bs_price(S, K, T, r, v, call, q))
    greeks = bs_greeks(S, K, T, r, v, call, q)
    assert set(greeks) == set(GREEKS)
    for key in GREEKS:
        np.testing.assert_array_equal(both[key], greeks[key])
    buffers = {key: np.full(n, np.nan) for key in ("price", *GREEKS)}
    got = bs_price_greeks(S, K, T, r, v, call, q, out=buffers)
    for key, arr in got.items():
        assert arr is buffers[key]
        np.testing.assert_array_equal(arr, both[key])
    # Row by row agrees with the vectorised call.
    for i in (0, 8191, 8192, 16383, 16384, 32768, n - 1):
        one = bs_price_greeks(S[i], K[i], T[i], r, v[i], bool(call[i]), q[i])
        for key in one:
            assert one[key].shape == ()
            assert float(one[key]) == both[key][i]


def test_broadcasting_and_shapes() -> None:
    strikes = np.array([[90.0], [100.0], [110.0]])
    expiries = np.array([0.1, 0.5, 1.0, 2.0])
    out = bs_price_greeks(100.0, strikes, expiries, 0.02, 0.25, [True, False, True, False])
    for arr in out.values():
        assert arr.shape == (3, 4)
        assert arr.dtype == np.float64
    assert float(out["price"][1, 2]) == pytest.approx(
        float(bs_price(100, 100, 1.0, 0.02, 0.25, True))
    )
    assert bs_price(100, 100, 1, 0.02, 0.2, True).shape == ()
    assert implied_vol([[5.0, 6.0]], 100, 100, [[0.5], [1.0]], 0.0, True).shape == (2, 2)


@given(
    st.lists(st.tuples(spots, st.floats(0.0, 0.5), st.floats(0.0, 0.5)), min_size=1, max_size=9),
    st.lists(st.tuples(log_moneyness, expiries, vols, flags), min_size=1, max_size=4),
    rates,
    yields,
)
def test_flat_rows_price_as_the_broadcast_grid_to_the_bit(
    scenarios: list[tuple[float, float, float]],
    legs: list[tuple[float, float, float, bool]],
    r: float,
    q: float,
) -> None:
    """Scenarios × legs priced as flat rows (the critic's fast path) equal the 2-D broadcast."""
    s, dv, dt = (np.array(col) for col in zip(*scenarios, strict=True))
    lk, t0, iv, call = (np.array(col) for col in zip(*legs, strict=True))
    k = 100.0 * np.exp(lk)
    grid = bs_price(s[:, None], k[None, :], t0[None, :] - dt[:, None], r, iv + dv[:, None], call, q)
    n, m = len(scenarios), len(legs)
    flat = bs_price(
        s.repeat(m),
        np.tile(k, n),
        np.tile(t0, n) - dt.repeat(m),
        r,
        np.tile(iv, n) + dv.repeat(m),
        np.tile(call, n),
        q,
    )
    assert flat.reshape(n, m).tobytes() == grid.tobytes()


# ---------------------------------------------------------------------------------------
# Edge cases of the pricer
# ---------------------------------------------------------------------------------------


def test_expired_options() -> None:
    S = np.array([110.0, 90.0, 100.0, 110.0, 90.0])
    call = np.array([True, True, True, False, False])
    out = bs_price_greeks(S, 100.0, np.array([0.0, 0.0, 0.0, -1.0, 0.0]), 0.05, 0.2, call)
    np.testing.assert_array_equal(out["price"], [10.0, 0.0, 0.0, 0.0, 10.0])
    np.testing.assert_array_equal(out["delta"], [1.0, 0.0, 0.0, 0.0, -1.0])
    for key in ("gamma", "vega", "theta", "rho"):
        np.testing.assert_array_equal(out[key], 0.0)


def test_zero_and_negative_vol_is_the_deterministic_limit() -> None:
    S, K, T, r, q = 100.0, np.array([90.0, 110.0]), 0.5, 0.05, 0.01
    for sigma in (0.0, -0.3):
        c = bs_price_greeks(S, K, T, r, sigma, True, q)
        p = bs_price_greeks(S, K, T, r, sigma, False, q)
        fwd_intr = S * math.exp(-q * T) - K * math.exp(-r * T)
        np.testing.assert_allclose(c["price"], np.maximum(fwd_intr, 0.0), rtol=1e-15)
        np.testing.assert_allclose(p["price"], np.maximum(-fwd_intr, 0.0), rtol=1e-15)
        # Same as the small-vol limit of the formula.
        tiny = bs_price_greeks(S, K, T, r, 1e-6, True, q)
        for key in ("price", "delta", "theta", "rho"):
            np.testing.assert_allclose(c[key], tiny[key], atol=1e-9)
        np.testing.assert_array_equal(c["gamma"], 0.0)
        np.testing.assert_array_equal(c["vega"], 0.0)


def test_nan_propagates_without_warnings() -> None:
    out = bs_price_greeks([np.nan, 100.0], 100.0, [0.5, np.nan], 0.02, 0.2, True)
    for arr in out.values():
        assert np.isnan(arr).all()


# ---------------------------------------------------------------------------------------
# Implied volatility
# ---------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(spots, log_moneyness, expiries, vols, rates, yields, flags)
def test_implied_vol_round_trip(
    S: float, lk: float, T: float, v: float, r: float, q: float, call: bool
) -> None:
    # sigma sqrt(T) <= 6 (300 % vol for 4 years): much beyond (~9), a quote is within
    # ~1e-5 of its upper bound (bound - price ~ 2 N(-sigma sqrt(T)/2)) and the rounding of
    # its last digit alone moves sigma by more than 1e-10.
    assume(v * math.sqrt(T) <= 6.0)
    K = S * math.exp(lk)
    otm_call, otm_price = _otm_side(S, K, T, r, v, q)
    assume(otm_price >= 1e-4)
    # Quoted on the out-of-the-money side: the requirement, 1e-10 absolute.
    assert abs(float(implied_vol(otm_price, S, K, T, r, otm_call, q)) - v) <= 1e-10
    # Quoted on the requested side (maybe in the money): same, unless the quote itself
    # cannot carry that much information (rounding of a big ITM price over its vega).
    price = float(bs_price(S, K, T, r, v, call, q))
    vega = float(bs_greeks(S, K, T, r, v, call, q)["vega"])
    tol = max(1e-10, 4 * EPS * price / vega)
    assert abs(float(implied_vol(price, S, K, T, r, call, q)) - v) <= tol


def test_implied_vol_round_trip_vectorised() -> None:
    # The bench's realistic domain, 40 000 rows across several blocks, both quote sides.
    rng = np.random.default_rng(11)
    n = 40_000
    S = rng.uniform(10, 500, n)
    K = S * rng.uniform(0.5, 1.5, n)
    T = rng.uniform(1 / 365, 2, n)
    v = rng.uniform(0.05, 1.5, n)
    r = rng.uniform(0, 0.08, n)
    q = rng.uniform(0, 0.05, n)
    call = rng.random(n) < 0.5
    price = bs_price(S, K, T, r, v, call, q)
    other = bs_price(S, K, T, r, v, ~call, q)
    own_otm = np.where(call, S * np.exp((r - q) * T) <= K, S * np.exp((r - q) * T) >= K)
    otm_price = np.where(own_otm, price, other)
    m = otm_price >= 1e-4
    assert m.mean() > 0.9
    iv = implied_vol(price, S, K, T, r, call, q)
    assert np.abs(iv - v)[m].max() <= 1e-10
    iv_otm = implied_vol(otm_price, S, K, T, r, np.where(own_otm, call, ~call), q)
    assert np.abs(iv_otm - v)[m].max() <= 1e-10
    # Below 1e-4 there is no accuracy promise, but never a made-up number: whatever comes
    # back reproduces the quote (to its rounding; relative 1e-6 for out-of-the-money ones).
    tiny = ~m & np.isfinite(iv)
    assert tiny.sum() > 100
    back = bs_price(S[tiny], K[tiny], T[tiny], r[tiny], iv[tiny], call[tiny], q[tiny])
    quote = price[tiny]
    np.testing.assert_array_less(np.abs(back - quote), 8 * EPS * np.maximum(S, K)[tiny])
    otm = own_otm[tiny]
    np.testing.assert_allclose(back[otm], quote[otm], rtol=1e-6, atol=0)


@pytest.mark.parametrize("sigma", [0.01, 0.05, 0.2, 1.0, 3.0])
@pytest.mark.parametrize("log_k", [-1.0, -0.2, -0.01, 0.0, 0.01, 0.2, 1.0])
def test_implied_vol_grid(sigma: float, log_k: float) -> None:
    S, T, r, q = 100.0, 0.75, 0.03, 0.01
    K = S * math.exp(log_k + (r - q) * T)  # log_k is forward log-moneyness; 0 = ATM forward
    call, price = _otm_side(S, K, T, r, sigma, q)
    iv = float(implied_vol(price, S, K, T, r, call, q))
    if price >= 1e-4:
        assert abs(iv - sigma) <= 1e-10
    elif price > 0:
        assert iv == pytest.approx(sigma, rel=1e-6)
    else:  # N(d) underflowed: a zero price has no implied volatility
        assert math.isnan(iv)


def test_implied_vol_nan_where_no_vol_exists() -> None:
    S, K, T, r, q = 100.0, 90.0, 0.5, 0.05, 0.02
    fwd, kd = S * math.exp(-q * T), K * math.exp(-r * T)
    intrinsic = fwd - kd
    cases = [
        (intrinsic * 0.99, S, K, T, True),  # below discounted forward intrinsic
        (intrinsic, S, K, T, True),  # exactly intrinsic: only sigma = 0
        (fwd, S, K, T, True),  # call at its upper bound S e^{-qT}
        (fwd * 1.01, S, K, T, True),  # above it
        (kd, S, K, T, False),  # put at its upper bound K e^{-rT}
        (0.0, S, K, T, False),  # zero price
        (-1.0, S, K, T, False),  # negative price
        (5.0, S, K, 0.0, True),  # expired
        (5.0, S, K, -0.1, True),  # negative time
        (5.0, 0.0, K, T, True),  # zero spot
        (5.0, S, -K, T, True),  # negative strike
        (np.nan, S, K, T, True),
        (np.inf, S, K, T, True),
        (5.0, np.inf, K, T, True),
        (5.0, S, K, np.inf, True),
    ]
    for price, s, k, t, call in cases:
        assert np.isnan(implied_vol(price, s, k, t, r, call, q)), (price, s, k, t, call)
    assert np.isnan(implied_vol(5.0, S, K, T, np.nan, True, q))
    assert np.isnan(implied_vol(5.0, S, K, T, r, True, np.inf))
    # A valid neighbour in the same array is unaffected.
    good = float(bs_price(S, K, T, r, 0.3, True, q))
    both = implied_vol([intrinsic * 0.99, good], S, K, T, r, True, q)
    assert np.isnan(both[0])
    assert both[1] == pytest.approx(0.3, abs=1e-12)


@settings(deadline=None, max_examples=150)
@given(
    spots, log_moneyness, expiries, st.floats(0.02, 2.0), st.floats(0.02, 2.0), rates, yields, flags
)
def test_monotonic_in_sigma(
    S: float, lk: float, T: float, v1: float, v2: float, r: float, q: float, call: bool
) -> None:
    assume(abs(v1 - v2) > 1e-3)
    lo, hi = sorted((v1, v2))
    K = S * math.exp(lk)
    p_lo, p_hi = (float(bs_price(S, K, T, r, v, call, q)) for v in (lo, hi))
    assert p_hi >= p_lo - 4 * EPS * max(S, K)  # equal up to rounding once time value is nil
    _, otm_lo = _otm_side(S, K, T, r, lo, q)
    if otm_lo >= 1e-4 and hi * math.sqrt(T) <= 6.0:
        iv_lo, iv_hi = implied_vol([p_lo, p_hi], S, K, T, r, call, q)
        assert iv_lo < iv_hi


def test_implied_vol_extreme_but_valid_quotes() -> None:
    # Very deep OTM, tiny time value, huge vol, exact ATM forward: finite and consistent.
    S, r, q = 100.0, 0.01, 0.0
    cases = [
        (250.0, 0.05, 0.4, True),
        (40.0, 0.02, 0.8, False),
        (100.0, 2.0, 4.0, True),
        (100.0 * math.exp(0.01 * 1.5), 1.5, 0.3, True),
        (300.0, 30.0, 0.02, True),
    ]
    for K, T, sigma, call in cases:
        price = float(bs_price(S, K, T, r, sigma, call, q))
        assert price > 0
        iv = float(implied_vol(price, S, K, T, r, call, q))
        assert iv == pytest.approx(sigma, rel=1e-7)


# ---------------------------------------------------------------------------------------
# Probabilities
# ---------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=150)
@given(spots, log_moneyness, expiries, vols, rates, yields)
def test_prob_beyond_is_risk_neutral_itm_probability(
    S: float, lk: float, T: float, v: float, r: float, q: float
) -> None:
    K = S * math.exp(lk)
    pc, pp = prob_beyond(S, K, T, r, v, np.array([True, False]), q)
    d2 = (math.log(S / K) + (r - q - 0.5 * v * v) * T) / (v * math.sqrt(T))
    assert pc == pytest.approx(float(ndtr(d2)), abs=1e-12)  # d2 rounded differently
    assert pc + pp == pytest.approx(1.0, abs=1e-15)


def test_prob_beyond_edges() -> None:
    assert float(prob_beyond(110, 100, 0.0, 0.05, 0.2, True)) == 1.0
    assert float(prob_beyond(110, 100, 0.0, 0.05, 0.2, False)) == 0.0
    assert float(prob_beyond(100, 100, 0.0, 0.05, 0.2, True)) == 0.0
    # sigma = 0: the forward decides. F = 100 e^{0.05} > 104 > 100.
    assert float(prob_beyond(100, 104, 1.0, 0.05, 0.0, True)) == 1.0
    assert float(prob_beyond(100, 104, 1.0, 0.05, 0.0, False)) == 0.0


@settings(deadline=None, max_examples=150)
@given(spots, log_moneyness, expiries, vols, rates, yields)
def test_prob_touch_at_least_prob_beyond_for_otm_strikes(
    S: float, lk: float, T: float, v: float, r: float, q: float
) -> None:
    assume(abs(lk) > 1e-9)
    K = S * math.exp(lk)
    beyond = float(prob_beyond(S, K, T, r, v, K > S, q))  # call above spot, put below
    touch = float(prob_touch(S, K, T, r, v, q))
    assert 0.0 <= beyond <= touch + 1e-12 <= 1.0 + 1e-12


@settings(deadline=None, max_examples=150)
@given(spots, log_moneyness, expiries, st.floats(0.02, 1.5))
def test_prob_touch_reflection_principle_without_drift(
    S: float, lk: float, T: float, v: float
) -> None:
    # With r - q = sigma²/2 the log-price is a driftless Brownian motion:
    # P(touch) = 2 N(-|ln(K/S)| / (sigma sqrt(T))).
    K = S * math.exp(lk)
    r, q = 0.5 * v * v + 0.01, 0.01
    expected = 2.0 * float(ndtr(-abs(math.log(K / S)) / (v * math.sqrt(T))))
    assert float(prob_touch(S, K, T, r, v, q)) == pytest.approx(expected, abs=1e-14)


def test_prob_touch_edges_and_monotonicity() -> None:
    assert float(prob_touch(100, 100, 0.5, 0.05, 0.2)) == 1.0
    assert float(prob_touch(100, 100, 0.0, 0.05, 0.2)) == 1.0
    assert float(prob_touch(100, 110, 0.0, 0.05, 0.2)) == 0.0
    # sigma = 0: the deterministic path S e^{(r-q)t} reaches 104 by t = 1 but not 106.
    np.testing.assert_array_equal(prob_touch(100, [104, 106, 90], 1.0, 0.05, 0.0), [1, 0, 0])
    strikes = np.linspace(101, 200, 50)
    up = prob_touch(100, strikes, 0.5, 0.03, 0.3)
    assert np.all(np.diff(up) < 0)
    down = prob_touch(100, 100 - (strikes - 100) * 0.9, 0.5, 0.03, 0.3)
    assert np.all(np.diff(down) < 0)
    assert np.all(np.diff(prob_touch(100, 120, np.linspace(0.1, 3, 30), 0.03, 0.3)) > 0)
    # Huge drift-to-vol ratio: no overflow, stays a probability.
    p = prob_touch(100, [150, 60], 1.0, 0.5, 0.01)
    assert np.all((p >= 0) & (p <= 1))


@pytest.mark.parametrize(
    ("K", "r", "q", "sigma", "T"),
    [(115.0, 0.05, 0.0, 0.25, 0.5), (85.0, 0.08, 0.02, 0.35, 1.0), (130.0, -0.01, 0.03, 0.6, 0.25)],
)
def test_prob_touch_monte_carlo(K: float, r: float, q: float, sigma: float, T: float) -> None:
    # GBM paths on a coarse grid, made exact for continuous monitoring by the Brownian
    # bridge: between samples x0, x1 on the near side of barrier b, the crossing
    # probability is exp(-2 (b - x0)(b - x1) / (sigma² dt)). Fixed seed, ~0.1 s.
    S, paths, steps = 100.0, 20_000, 32
    rng = np.random.default_rng(12345)
    dt = T / steps
    nu = r - q - 0.5 * sigma * sigma
    z = rng.standard_normal((paths, steps))
    x = np.cumsum(nu * dt + sigma * math.sqrt(dt) * z, axis=1)
    x = np.hstack([np.zeros((paths, 1)), x])
    b = math.log(K / S)
    gap = (b - x) * math.copysign(1.0, b)  # distance to the barrier, > 0 before it
    crossed = (gap <= 0).any(axis=1)
    g0, g1 = np.maximum(gap[:, :-1], 0), np.maximum(gap[:, 1:], 0)
    miss = np.prod(1.0 - np.exp(-2.0 * g0 * g1 / (sigma * sigma * dt)), axis=1)
    estimate = np.where(crossed, 1.0, 1.0 - miss)
    se = estimate.std() / math.sqrt(paths)
    exact = float(prob_touch(S, K, T, r, sigma, q))
    assert abs(estimate.mean() - exact) <= max(4 * se, 2e-3)
