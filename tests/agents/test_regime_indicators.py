"""Tests for the regime indicators: Wilder's ADX, IV rank and IV percentile.

The ADX is checked against a published worked example and against a plain-loop reimplementation
written straight from Wilder's definitions; IV rank and percentile against hand-computed series and
brute-force loops.
"""

from __future__ import annotations

import math
import timeit

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.agents.regime import adx, average_true_range, iv_percentile, iv_rank
from seeker.agents.regime.indicators import adx_atr_last

# StockCharts ChartSchool, "Average Directional Index (ADX)", worked example spreadsheet
# (cs-adx.xls, 14-period, daily bars from 11-Feb-2009): https://school.stockcharts.com/doku.php?
# id=technical_indicators:average_directional_index_adx -- as transcribed in bukosabino/ta,
# test/data/cs-adx.csv (commit 41c1a8eb7107fcfd0bb8dc726e517540f361c953), first 63 rows.
# Columns: date, high, low, close, published ADX (7 decimals; blank during the warm-up).
STOCKCHARTS_ADX_14 = """\
11-Feb-09,30.1983,29.4072,29.8720,
12-Feb-09,30.2776,29.3182,30.2381,
13-Feb-09,30.4458,29.9611,30.0996,
17-Feb-09,29.3478,28.7443,28.9028,
18-Feb-09,29.3477,28.5566,28.9225,
19-Feb-09,29.2886,28.4081,28.4775,
20-Feb-09,28.8334,28.0818,28.5566,
23-Feb-09,28.7346,27.4289,27.5576,
24-Feb-09,28.6654,27.6565,28.4675,
25-Feb-09,28.8532,27.8345,28.2796,
26-Feb-09,28.6356,27.3992,27.4882,
27-Feb-09,27.6761,27.0927,27.2310,
02-Mar-09,27.2112,26.1826,26.3507,
03-Mar-09,26.8651,26.1332,26.3309,
04-Mar-09,27.4090,26.6277,27.0333,
05-Mar-09,26.9441,26.1332,26.2221,
06-Mar-09,26.5189,25.4307,26.0144,
09-Mar-09,26.5189,25.3518,25.4605,
10-Mar-09,27.0927,25.8760,27.0333,
11-Mar-09,27.6860,26.9640,27.4487,
12-Mar-09,28.4477,27.1421,28.3586,
13-Mar-09,28.5267,28.0123,28.4278,
16-Mar-09,28.6654,27.8840,27.9530,
17-Mar-09,29.0116,27.9928,29.0116,
18-Mar-09,29.8720,28.7643,29.3776,
19-Mar-09,29.8028,29.1402,29.3576,
20-Mar-09,29.7529,28.7127,28.9107,
23-Mar-09,30.6546,28.9290,30.6149,33.5833461
24-Mar-09,30.5951,30.0304,30.0502,32.1534947
25-Mar-09,30.7635,29.3863,30.1890,29.9292238
26-Mar-09,31.1698,30.1365,31.1202,28.3576178
27-Mar-09,30.8923,30.4267,30.5356,26.8982694
30-Mar-09,30.0402,29.3467,29.7827,25.7764785
31-Mar-09,30.6645,29.9906,30.0402,23.9459048
01-Apr-09,30.5951,29.5152,30.4861,22.7832985
02-Apr-09,31.9724,30.9418,31.4670,22.0715260
03-Apr-09,32.1011,31.5364,32.0515,21.5275978
06-Apr-09,32.0317,31.3580,31.9724,20.7994716
07-Apr-09,31.6255,30.9220,31.1302,19.5905735
08-Apr-09,31.8534,31.1994,31.6551,18.7175557
09-Apr-09,32.7055,32.1308,32.6360,18.7515253
13-Apr-09,32.7648,32.2298,32.5866,18.8377660
14-Apr-09,32.5766,31.9724,32.1903,18.5543785
15-Apr-09,32.1308,31.5562,32.1011,17.7268546
16-Apr-09,33.1215,32.2101,32.9335,17.9545033
17-Apr-09,33.1909,32.6262,33.0027,18.2290566
20-Apr-09,32.5172,31.7642,31.9425,17.3520756
21-Apr-09,32.4379,31.7840,32.3883,16.5377362
22-Apr-09,33.2207,32.0912,32.4875,16.5911619
23-Apr-09,32.8343,32.1903,32.8046,16.6407716
24-Apr-09,33.6169,32.7648,33.3792,17.4111939
27-Apr-09,33.7459,33.0423,33.4188,18.2370022
28-Apr-09,33.5971,33.0522,33.1711,19.0038241
29-Apr-09,34.0825,33.3297,33.6268,20.1473525
30-Apr-09,34.5780,33.7260,33.9638,21.6060903
01-May-09,34.2214,33.6962,34.0529,22.9053363
04-May-09,34.7663,34.2015,34.7266,24.5325087
05-May-09,34.7364,34.3105,34.6969,26.0434545
06-May-09,35.0140,34.1420,34.7067,27.6584845
07-May-09,34.9447,33.5674,33.8944,28.0051631
08-May-09,34.4194,33.5674,33.9142,28.3270789
11-May-09,34.3995,33.3692,34.0331,28.2319562
12-May-09,34.1619,33.2108,33.6169,27.8298477
"""


def _stockcharts() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = [line.split(",") for line in STOCKCHARTS_ADX_14.strip().splitlines()]
    high = np.array([float(r[1]) for r in rows])
    low = np.array([float(r[2]) for r in rows])
    close = np.array([float(r[3]) for r in rows])
    published = np.array([float(r[4]) if r[4] else np.nan for r in rows])
    return high, low, close, published


# ---------------------------------------------------------------- brute-force reference versions


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def brute_adx(high: list[float], low: list[float], close: list[float], period: int) -> list[float]:
    """Wilder's ADX by plain loops; a bar with a missing value restarts the computation."""
    n = len(high)
    out = [math.nan] * n
    start = 0
    while start < n:
        if not _finite(high[start], low[start], close[start]):
            start += 1
            continue
        stop = start
        while stop < n and _finite(high[stop], low[stop], close[stop]):
            stop += 1
        tr_s = plus_s = minus_s = 0.0
        dxs: list[float] = []
        adx_t = math.nan
        for t in range(start + 1, stop):
            up = high[t] - high[t - 1]
            down = low[t - 1] - low[t]
            plus_dm = up if up > down and up > 0 else 0.0
            minus_dm = down if down > up and down > 0 else 0.0
            tr = max(high[t] - low[t], abs(high[t] - close[t - 1]), abs(low[t] - close[t - 1]))
            k = t - start  # how many DM/TR values so far
            if k <= period:
                tr_s += tr
                plus_s += plus_dm
                minus_s += minus_dm
            else:
                tr_s = tr_s - tr_s / period + tr
                plus_s = plus_s - plus_s / period + plus_dm
                minus_s = minus_s - minus_s / period + minus_dm
            if k < period:
                continue
            plus_di = 100 * plus_s / tr_s if tr_s > 0 else 0.0
            minus_di = 100 * minus_s / tr_s if tr_s > 0 else 0.0
            di_sum = plus_di + minus_di
            dx = 100 * abs(plus_di - minus_di) / di_sum if di_sum > 0 else 0.0
            dxs.append(dx)
            if len(dxs) == period:
                adx_t = sum(dxs) / period
            elif len(dxs) > period:
                adx_t = (adx_t * (period - 1) + dx) / period
            else:
                continue
            out[t] = adx_t
        start = stop
    return out


def brute_iv_rank(iv: list[float], window: int) -> list[float]:
    out = []
    for t in range(len(iv)):
        if t < window - 1:
            out.append(math.nan)
            continue
        values = iv[t - window + 1 : t + 1]
        if any(math.isnan(v) for v in values):
            out.append(math.nan)
            continue
        lo, hi = min(values), max(values)
        out.append(math.nan if hi == lo else 100 * (iv[t] - lo) / (hi - lo))
    return out


def brute_iv_percentile(iv: list[float], window: int) -> list[float]:
    out = []
    for t in range(len(iv)):
        if t < window:
            out.append(math.nan)
            continue
        prior = iv[t - window : t]
        if math.isnan(iv[t]) or any(math.isnan(v) for v in prior):
            out.append(math.nan)
            continue
        out.append(100 * sum(1 for v in prior if v < iv[t]) / window)
    return out


def assert_same(actual: np.ndarray, expected: list[float], atol: float = 1e-9) -> None:
    expected_arr = np.array(expected, dtype=float)
    assert actual.shape == expected_arr.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected_arr))
    np.testing.assert_allclose(actual, expected_arr, rtol=1e-9, atol=atol, equal_nan=True)


# ----------------------------------------------------------------------- strategies


# Prices on a coarse grid so that ties (equal highs/lows, zero ranges) actually occur.
_price = st.integers(min_value=0, max_value=400).map(lambda k: 50.0 + k / 8)
_extent = st.sampled_from([0.0, 0.0, 0.125, 0.25, 0.5, 1.0, 2.5])


@st.composite
def bars(draw: st.DrawFn, min_size: int = 16, max_size: int = 120):
    rows = draw(st.lists(st.tuples(_price, _extent, _extent), min_size=min_size, max_size=max_size))
    close = [c for c, _, _ in rows]
    high = [c + up for c, up, _ in rows]
    low = [c - down for c, _, down in rows]
    columns = {"high": high, "low": low, "close": close}
    if rows:
        gap = st.tuples(st.integers(0, len(rows) - 1), st.sampled_from(sorted(columns)))
        for i, which in draw(st.lists(gap, max_size=3)):
            columns[which][i] = math.nan
    return high, low, close


_iv_value = st.one_of(
    st.sampled_from([0.2, 0.25, 0.3]),  # repeats, to get ties and flat windows
    st.floats(min_value=0.01, max_value=3.0, allow_nan=False),
)


@st.composite
def iv_series(draw: st.DrawFn):
    values = draw(st.lists(_iv_value, min_size=4, max_size=80))
    if values:
        for i in draw(st.lists(st.integers(0, len(values) - 1), max_size=3)):
            values[i] = math.nan
    return values


# --------------------------------------------------------------------------- ADX


def test_adx_matches_stockcharts_worked_example() -> None:
    high, low, close, published = _stockcharts()
    result = adx(high, low, close, 14)
    # Published to 7 decimals: agree to one unit in the last place.
    np.testing.assert_allclose(result, published, rtol=0, atol=1e-7, equal_nan=True)
    # First ADX lands on bar 2 * 14 - 1 = 27 (23-Mar-2009), as in the spreadsheet.
    assert np.isnan(result[:27]).all()
    assert result[27] == pytest.approx(33.5833461, abs=1e-7)
    assert not np.isnan(result[27:]).any()


@pytest.mark.parametrize("period", [1, 2, 3, 5, 14])
def test_adx_first_value_lands_on_bar_2p_minus_1(period: int) -> None:
    high, low, close, _ = _stockcharts()
    result = adx(high, low, close, period)
    assert np.isnan(result[: 2 * period - 1]).all()
    assert not np.isnan(result[2 * period - 1 :]).any()


def test_adx_too_short_is_all_nan() -> None:
    high, low, close, _ = _stockcharts()
    result = adx(high[:27], low[:27], close[:27], 14)
    assert result.shape == (27,)
    assert np.isnan(result).all()
    assert adx([], [], [], 14).shape == (0,)


def test_adx_flat_market_is_zero() -> None:
    price = np.full(40, 25.0)
    result = adx(price, price, price, 5)
    assert np.isnan(result[:9]).all()
    np.testing.assert_array_equal(result[9:], 0.0)


def test_adx_steady_trend_is_100() -> None:
    base = np.arange(40, dtype=float)
    result = adx(base + 1.0, base, base + 0.5, 5)
    np.testing.assert_allclose(result[9:], 100.0)


def test_adx_is_causal() -> None:
    high, low, close, _ = _stockcharts()
    full = adx(high, low, close, 14)
    for m in (28, 40, 55):
        np.testing.assert_array_equal(adx(high[:m], low[:m], close[:m], 14), full[:m])


def test_adx_nan_bar_restarts_warm_up() -> None:
    high, low, close, _ = _stockcharts()
    high = high.copy()
    k = 20
    high[k] = np.nan
    result = adx(high, low, close, 5)
    clean_before = adx(high[:k], low[:k], close[:k], 5)
    clean_after = adx(high[k + 1 :], low[k + 1 :], close[k + 1 :], 5)
    np.testing.assert_array_equal(result[:k], clean_before)
    assert np.isnan(result[k])
    # Nothing after the gap uses the missing bar: the warm-up starts again at bar k + 1.
    assert np.isnan(result[k + 1 : k + 1 + 9]).all()
    np.testing.assert_array_equal(result[k + 1 :], clean_after)


def test_adx_accepts_lists_and_infinities_are_missing() -> None:
    high, low, close, _ = _stockcharts()
    as_lists = adx(high.tolist(), low.tolist(), close.tolist(), 14)
    np.testing.assert_array_equal(as_lists, adx(high, low, close, 14))
    bad = close.copy()
    bad[30] = np.inf
    assert np.isnan(adx(high, low, bad, 14)[30:58]).all()


@settings(max_examples=200, deadline=None)
@given(data=bars(), period=st.integers(1, 8))
def test_adx_matches_brute_force_and_bounds(data, period: int) -> None:
    high, low, close = data
    result = adx(high, low, close, period)
    # Values are on a 0..100 scale; the two recursions differ only in rounding.
    assert_same(result, brute_adx(high, low, close, period), atol=1e-7)
    assert result.dtype == np.float64
    finite = result[~np.isnan(result)]
    assert ((finite >= 0.0) & (finite <= 100.0)).all()
    # A bar with a missing value never gets a number.
    missing = np.isnan(np.array(high) + np.array(low) + np.array(close))
    assert np.isnan(result[missing]).all()


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    adx_period=st.integers(2, 20),
    atr_period=st.integers(1, 20),
    extra=st.integers(0, 60),
    flat=st.booleans(),
)
def test_adx_atr_last_is_bit_identical_to_the_series(
    seed: int, adx_period: int, atr_period: int, extra: int, flat: bool
) -> None:
    rng = np.random.default_rng(seed)
    n = max(2 * adx_period, atr_period + 1) + extra
    close = 100 + np.cumsum(rng.normal(size=n))
    high = close + rng.random(n)
    low = close - rng.random(n)
    if flat:  # a stretch without any range: smoothed TR and both DIs may reach 0
        k = n // 3
        high[:k] = low[:k] = close[:k] = 50.0
    got_adx, got_atr = adx_atr_last(high, low, close, adx_period, atr_period)
    assert got_adx == adx(high, low, close, adx_period)[-1]
    assert got_atr == average_true_range(high, low, close, atr_period)


def test_adx_speed_2000_bars() -> None:
    rng = np.random.default_rng(7)
    close = 100 + np.cumsum(rng.normal(size=2000))
    high = close + rng.random(2000)
    low = close - rng.random(2000)
    best = min(timeit.repeat(lambda: adx(high, low, close, 14), number=5, repeat=3)) / 5
    assert best < 0.005  # about 0.2 ms on the 2-core reference machine


# ---------------------------------------------------------------------- IV rank

_IV = [20.0, 10.0, 15.0, 30.0, 12.0, math.nan, 25.0, 25.0, 25.0, 40.0, 30.0]


def test_iv_rank_hand_computed() -> None:
    nan = math.nan
    expected = [nan, nan, 50.0, 100.0, 0.0, nan, nan, nan, nan, 100.0, 100 / 3]
    # t=2: (15-10)/(20-10); t=3: (30-10)/(30-10); t=4: (12-12)/(30-12);
    # t=5..7: a NaN in the window; t=8: flat window 25,25,25; t=9: (40-25)/15; t=10: (30-25)/15.
    assert_same(iv_rank(_IV, 3), expected)


def test_iv_rank_window_includes_today() -> None:
    # A new high today is rank 100, a new low today rank 0.
    np.testing.assert_allclose(iv_rank([1.0, 2.0, 3.0], 3), [math.nan, math.nan, 100.0])
    np.testing.assert_allclose(iv_rank([3.0, 2.0, 1.0], 3), [math.nan, math.nan, 0.0])


def test_iv_rank_window_one_and_short_input() -> None:
    assert np.isnan(iv_rank([0.2, 0.3, 0.4], 1)).all()  # max == min in every window
    assert np.isnan(iv_rank([0.2, 0.3], 5)).all()
    assert iv_rank([], 5).shape == (0,)


@settings(max_examples=200, deadline=None)
@given(iv=iv_series(), window=st.integers(1, 12))
def test_iv_rank_matches_brute_force_and_bounds(iv: list[float], window: int) -> None:
    result = iv_rank(np.array(iv, dtype=float), window)
    assert_same(result, brute_iv_rank(iv, window))
    finite = result[~np.isnan(result)]
    assert ((finite >= 0.0) & (finite <= 100.0)).all()


# ---------------------------------------------------------------- IV percentile


def test_iv_percentile_hand_computed() -> None:
    nan = math.nan
    expected = [nan, nan, nan, 100.0, 100 / 3, nan, nan, nan, nan, 100.0, 200 / 3]
    # t=3: 20,10,15 all below 30; t=4: only 10 below 12; t=5: today NaN; t=6..8: NaN among the
    # prior three; t=9: 25,25,25 below 40; t=10: 25,25 below 30, 40 not.
    assert_same(iv_percentile(_IV, 3), expected)


def test_iv_percentile_is_strict_and_excludes_today() -> None:
    # Prior 1, 2, 3 against today's 2: only 1 is strictly below.
    assert iv_percentile([1.0, 2.0, 3.0, 2.0], 3)[3] == pytest.approx(100 / 3)
    # A flat history gives 0, not NaN.
    assert iv_percentile([0.3, 0.3, 0.3, 0.3], 3)[3] == 0.0
    np.testing.assert_array_equal(iv_percentile([1.0, 2.0, 2.0, 1.0], 1), [np.nan, 100, 0, 0])


def test_iv_percentile_short_input() -> None:
    assert np.isnan(iv_percentile([0.2, 0.3, 0.4], 3)).all()  # needs 3 prior sessions
    assert iv_percentile([], 3).shape == (0,)


@settings(max_examples=200, deadline=None)
@given(iv=iv_series(), window=st.integers(1, 12))
def test_iv_percentile_matches_brute_force_and_bounds(iv: list[float], window: int) -> None:
    result = iv_percentile(np.array(iv, dtype=float), window)
    assert_same(result, brute_iv_percentile(iv, window))
    finite = result[~np.isnan(result)]
    assert ((finite >= 0.0) & (finite <= 100.0)).all()


# ------------------------------------------------------------------- validation


@pytest.mark.parametrize("bad", [0, -1, 1.5, 14.0, True, "14", None])
def test_bad_period_or_window_rejected(bad) -> None:
    with pytest.raises(ValueError, match="period must be an integer >= 1"):
        adx([1.0, 2.0], [0.5, 1.5], [0.7, 1.7], bad)
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        iv_rank([0.2, 0.3], bad)
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        iv_percentile([0.2, 0.3], bad)


def test_numpy_integer_period_accepted() -> None:
    high, low, close, _ = _stockcharts()
    np.testing.assert_array_equal(adx(high, low, close, np.int64(14)), adx(high, low, close, 14))


def test_unequal_lengths_rejected() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        adx([1.0, 2.0, 3.0], [0.5, 1.5], [0.7, 1.7, 2.7], 2)


def test_multidimensional_input_rejected() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        iv_rank([[0.2, 0.3], [0.4, 0.5]], 2)
    with pytest.raises(ValueError, match="one-dimensional"):
        adx([[1.0]], [[1.0]], [[1.0]], 1)
