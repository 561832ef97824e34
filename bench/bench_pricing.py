"""Benchmark seeker.core.pricing on one core: price+greeks, implied vol, vs py_vollib.

Run: ``python bench/bench_pricing.py [--rows N] [--repeats R] [--vollib-rows M]``.
Timings are medians of R runs; a reference kernel (scipy.special.ndtr over as many
standard normal draws) is timed in the same run, so the ratios survive a noisy machine.
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import ndtr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seeker.core.pricing import bs_price, bs_price_greeks, implied_vol  # noqa: E402

GOAL_GREEKS_NS = 60.0
GOAL_IV_US = 0.5


def make_chain(n: int, seed: int = 20240601) -> dict[str, np.ndarray]:
    """Return n realistic random options (seeded)."""
    rng = np.random.default_rng(seed)
    S = rng.uniform(10.0, 500.0, n)
    return {
        "S": S,
        "K": S * rng.uniform(0.5, 1.5, n),
        "T": rng.uniform(1.0 / 365.0, 2.0, n),
        "sigma": rng.uniform(0.05, 1.5, n),
        "r": rng.uniform(0.0, 0.08, n),
        "q": rng.uniform(0.0, 0.05, n),
        "is_call": rng.random(n) < 0.5,
    }


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Return the median wall time of fn() in seconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load_vollib() -> Callable[..., float] | None:
    """Return vollib's scalar BSM implied_volatility, or None if not installed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from py_vollib.black_scholes_merton.implied_volatility import (
                implied_volatility,
            )
        except ImportError:
            try:
                from vollib.black_scholes_merton.implied_volatility import (
                    implied_volatility,
                )
            except ImportError:
                return None
    return implied_volatility


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--vollib-rows", type=int, default=2_000)
    args = parser.parse_args()
    n = args.rows
    c = make_chain(n)
    S, K, T, r, q, sig, call = c["S"], c["K"], c["T"], c["r"], c["q"], c["sigma"], c["is_call"]
    price = bs_price(S, K, T, r, sig, call, q)
    normal = np.random.default_rng(1).standard_normal(n)
    ref_out = np.empty(n)
    bufs = {key: np.empty(n) for key in ("price", "delta", "gamma", "vega", "theta", "rho")}
    reps, iv_reps = args.repeats, max(5, args.repeats // 2)

    ref = median_time(lambda: ndtr(normal, out=ref_out), reps)
    t_p = median_time(lambda: bs_price(S, K, T, r, sig, call, q), reps)
    t_pg = median_time(lambda: bs_price_greeks(S, K, T, r, sig, call, q), reps)
    t_pg_out = median_time(lambda: bs_price_greeks(S, K, T, r, sig, call, q, out=bufs), reps)
    t_iv = median_time(lambda: implied_vol(price, S, K, T, r, call, q), iv_reps)

    iv = implied_vol(price, S, K, T, r, call, q)
    other = bs_price(S, K, T, r, sig, ~call, q)
    forward = S * np.exp((r - q) * T)
    own_is_otm = np.where(call, forward <= K, forward >= K)
    otm_price = np.where(own_is_otm, price, other)
    mask = otm_price >= 1e-4
    err = np.abs(iv - sig)[mask]
    n_nan = int(np.isnan(iv[mask]).sum())

    ns = {
        "ref": ref,
        "p": t_p,
        "pg": t_pg,
        "pg_out": t_pg_out,
        "iv": t_iv,
    }
    ns = {k: v / n * 1e9 for k, v in ns.items()}

    def line(label: str, key: str, goal: float | None = None) -> None:
        value = ns[key]
        text = f"  {label:<32}{value:8.1f} ns/row  ({value / ns['ref']:5.1f} x ref)"
        if goal is not None:
            text += f"   goal <= {goal:g} ns: {'MET' if value <= goal else 'NOT MET'}"
        print(text)

    print(f"rows {n:,}, one thread, medians of {reps} runs ({iv_reps} for IV)")
    line("reference: scipy ndtr on N(0,1)", "ref")
    line("price only", "p")
    line("price+greeks", "pg", GOAL_GREEKS_NS)
    line("price+greeks, out= buffers", "pg_out")
    us_iv = ns["iv"] / 1e3
    ok = "MET" if us_iv <= GOAL_IV_US else "NOT MET"
    print(
        f"  {'implied vol':<32}{us_iv:8.3f} us/opt  ({ns['iv'] / ns['ref']:5.1f} x ref)"
        f"   goal <= {GOAL_IV_US} us: {ok}"
    )
    print(
        f"  IV round trip: {mask.sum():,} rows with OTM price >= 1e-4, "
        f"max |sigma error| {np.nanmax(err):.2e}, NaN {n_nan}"
    )

    vollib_iv = load_vollib()
    if vollib_iv is None:
        print("  py_vollib not installed (pip install '.[bench]'): comparison skipped")
        return
    m = min(args.vollib_rows, n)
    sub = np.flatnonzero(mask)[:m]
    rows = [
        (float(price[i]), float(S[i]), float(K[i]), float(T[i]), float(r[i]), float(q[i]))
        for i in sub
    ]
    flags = ["c" if call[i] else "p" for i in sub]

    def run_vollib() -> list[float]:
        out = []
        for (p, s, k, t, rr, qq), f in zip(rows, flags, strict=True):
            try:
                out.append(vollib_iv(p, s, k, t, rr, qq, f))
            except Exception:
                out.append(float("nan"))
        return out

    t_v = median_time(run_vollib, 3)
    sub_args = (price[sub], S[sub], K[sub], T[sub], r[sub], call[sub], q[sub])
    t_ours_sub = median_time(lambda: implied_vol(*sub_args), iv_reps)
    v_iv = np.array(run_vollib())
    us_v = t_v / sub.size * 1e6
    us_ours_sub = t_ours_sub / sub.size * 1e6
    print(
        f"  py_vollib scalar IV, {sub.size:,} of the same options: {us_v:.2f} us/opt (median of 3)"
    )
    print(
        f"  ours / vollib: {us_iv / us_v:.4f} with ours on all {n:,} rows; "
        f"{us_ours_sub / us_v:.4f} on the same {sub.size:,} ({us_ours_sub:.3f} us/opt)"
    )
    err_v = np.nanmax(np.abs(v_iv - sig[sub]))
    err_o = np.nanmax(np.abs(iv[sub] - sig[sub]))
    print(f"  max |sigma error| on those {sub.size:,}: vollib {err_v:.2e}, ours {err_o:.2e}")


if __name__ == "__main__":
    main()
