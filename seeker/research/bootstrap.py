"""Block bootstrap of a trade P&L sequence: how much of a result could be luck of the order.

Two resampling schemes, both keeping runs of consecutive trades together so that streaks survive:

- ``"stationary"`` (Politis & Romano 1994, "The Stationary Bootstrap", JASA 89): blocks start at
  a uniform trade and have geometric lengths of mean `block_length`, wrapping round the end;
- ``"moving_block"`` (Künsch 1989, "The Jackknife and the Bootstrap for General Stationary
  Observations", Ann. Statist. 17): blocks of exactly `block_length` trades start uniformly in
  ``[0, n − block_length]``, concatenated and cut to n trades.

Every resample has as many trades as the original. For each one: total P&L ($), maximum drawdown
of the cumulative P&L from a start at 0 ($, ≥ 0), and the per-trade Sharpe ratio (mean / sample
deviation of the trade P&Ls; undefined, hence left out, when every resampled trade is equal).
The same P&Ls, scheme, block length, count and seed give the same figures, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["stationary", "moving_block"]

_CHUNK = 1024
"""Resamples drawn per batch (bounds memory; fixed, so results do not depend on it varying)."""


@dataclass(frozen=True)
class Distribution:
    """A bootstrapped figure: its mean and percentiles over the resamples where it is defined."""

    mean: float
    percentiles: tuple[tuple[float, float], ...]
    samples: int

    def at(self, percentile: float) -> float:
        """Return the value at `percentile` (one of those the bootstrap was asked for)."""
        for pct, value in self.percentiles:
            if pct == percentile:
                return value
        known = ", ".join(f"{p:g}" for p, _ in self.percentiles)
        raise KeyError(f"percentile {percentile:g} was not computed (computed: {known})")


@dataclass(frozen=True)
class BootstrapResult:
    """The bootstrap's distributions of total P&L, max drawdown and per-trade Sharpe."""

    method: Method
    block_length: float
    n_resamples: int
    seed: int
    n_trades: int
    observed_total_pnl: float
    observed_max_drawdown: float
    observed_sharpe: float | None
    total_pnl: Distribution
    max_drawdown: Distribution
    sharpe: Distribution | None
    probability_of_loss: float


def resample_indices(
    n: int,
    method: Method,
    block_length: float,
    n_resamples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return an (n_resamples, n) array of trade indices drawn by the block scheme `method`."""
    _check_scheme(n, method, block_length)
    if method == "stationary":
        restart = rng.random((n_resamples, n)) < 1.0 / block_length
        restart[:, 0] = True
        starts = rng.integers(0, n, size=(n_resamples, n))
        positions = np.arange(n)
        last_start = np.maximum.accumulate(np.where(restart, positions, 0), axis=1)
        block_first = np.take_along_axis(starts, last_start, axis=1)
        return (block_first + positions - last_start) % n
    length = int(block_length)
    n_blocks = math.ceil(n / length)
    starts = rng.integers(0, n - length + 1, size=(n_resamples, n_blocks))
    runs = starts[:, :, None] + np.arange(length)
    return runs.reshape(n_resamples, n_blocks * length)[:, :n]


def _check_scheme(n: int, method: Method, block_length: float) -> None:
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 trades (got {n})")
    if method == "stationary":
        if not (math.isfinite(block_length) and block_length >= 1.0):
            raise ValueError(f"block_length must be a mean of ≥ 1 trade (got {block_length!r})")
    elif method == "moving_block":
        if isinstance(block_length, bool) or block_length != int(block_length):
            raise ValueError(f"a moving block length is a whole number (got {block_length!r})")
        if not 1 <= block_length <= n:
            raise ValueError(
                f"block_length must be between 1 and the {n} trades (got {block_length})"
            )
    else:
        raise ValueError(f"method must be 'stationary' or 'moving_block' (got {method!r})")


def max_drawdowns(pnls: np.ndarray) -> np.ndarray:
    """Return each row's largest fall of cumulative P&L from its running peak ($, start at 0)."""
    equity = np.cumsum(pnls, axis=-1)
    peak = np.maximum.accumulate(np.maximum(equity, 0.0), axis=-1)
    return np.max(peak - equity, axis=-1)


def _sharpes(pnls: np.ndarray) -> np.ndarray:
    std = np.std(pnls, axis=-1, ddof=1)
    mean = np.mean(pnls, axis=-1)
    out = np.full(mean.shape, np.nan)
    np.divide(mean, std, out=out, where=std > 0.0)
    return out


def _distribution(values: np.ndarray, percentiles: tuple[float, ...]) -> Distribution | None:
    defined = values[np.isfinite(values)]
    if defined.size == 0:
        return None
    points = np.percentile(defined, percentiles)
    return Distribution(
        mean=float(np.mean(defined)),
        percentiles=tuple((p, float(v)) for p, v in zip(percentiles, points, strict=True)),
        samples=int(defined.size),
    )


def bootstrap_trades(
    pnls: Sequence[float] | np.ndarray,
    *,
    method: Method,
    block_length: float,
    n_resamples: int,
    seed: int,
    percentiles: Sequence[float] = (5.0, 25.0, 50.0, 75.0, 95.0),
) -> BootstrapResult:
    """Bootstrap the trade P&Ls ($ per trade, in trade order) and summarise the resamples.

    `block_length` is the mean block length in trades (stationary) or the exact one (moving
    block); `seed` seeds a numpy Generator, so the result is reproducible.
    """
    trades = np.asarray(pnls, dtype=float)
    if trades.ndim != 1:
        raise ValueError(f"pnls must be a flat sequence of trade P&Ls (got shape {trades.shape})")
    if not np.all(np.isfinite(trades)):
        bad = int(np.flatnonzero(~np.isfinite(trades))[0])
        raise ValueError(f"pnls[{bad}] is not a finite number ({trades[bad]!r})")
    _check_scheme(int(trades.size), method, block_length)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a whole number ≥ 1 (got {n_resamples!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0 (got {seed!r})")
    pcts = tuple(float(p) for p in percentiles)
    if not pcts or any(not 0.0 <= p <= 100.0 for p in pcts):
        raise ValueError(f"percentiles must be between 0 and 100 (got {list(percentiles)})")

    rng = np.random.default_rng(seed)
    totals, drawdowns, sharpes = [], [], []
    for first in range(0, n_resamples, _CHUNK):
        count = min(_CHUNK, n_resamples - first)
        sample = trades[resample_indices(trades.size, method, block_length, count, rng)]
        totals.append(sample.sum(axis=1))
        drawdowns.append(max_drawdowns(sample))
        sharpes.append(_sharpes(sample))
    total = np.concatenate(totals)
    total_dist = _distribution(total, pcts)
    drawdown_dist = _distribution(np.concatenate(drawdowns), pcts)
    assert total_dist is not None and drawdown_dist is not None  # finite inputs, finite sums
    observed_sharpe = float(_sharpes(trades))
    return BootstrapResult(
        method=method,
        block_length=float(block_length),
        n_resamples=n_resamples,
        seed=seed,
        n_trades=int(trades.size),
        observed_total_pnl=float(trades.sum()),
        observed_max_drawdown=float(max_drawdowns(trades)),
        observed_sharpe=observed_sharpe if math.isfinite(observed_sharpe) else None,
        total_pnl=total_dist,
        max_drawdown=drawdown_dist,
        sharpe=_distribution(np.concatenate(sharpes), pcts),
        probability_of_loss=float(np.mean(total < 0.0)),
    )
