"""Tests for seeker.research.bootstrap: block structure, exact cases, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.research.bootstrap import (
    bootstrap_trades,
    max_drawdowns,
    resample_indices,
)

TRADES = [12.0, -30.0, 8.5, 9.0, -4.0, 15.0, -22.0, 6.0, 7.5, -1.0, 11.0, -9.0] * 4


def test_max_drawdown_from_a_start_at_zero() -> None:
    assert max_drawdowns(np.array([10.0, -4.0, 5.0, -20.0, 3.0])) == 20.0
    assert max_drawdowns(np.array([-5.0, -5.0, 20.0])) == 10.0  # below the start counts
    assert max_drawdowns(np.array([1.0, 2.0, 3.0])) == 0.0


def test_a_single_block_of_every_trade_is_the_original_sequence() -> None:
    result = bootstrap_trades(
        TRADES, method="moving_block", block_length=len(TRADES), n_resamples=50, seed=3
    )
    assert result.total_pnl.percentiles == tuple((p, sum(TRADES)) for p in (5, 25, 50, 75, 95))
    assert result.max_drawdown.mean == pytest.approx(result.observed_max_drawdown)
    assert result.max_drawdown.at(5) == result.max_drawdown.at(95) == result.observed_max_drawdown
    assert result.probability_of_loss == 0.0


def test_same_seed_same_figures_other_seed_other_figures() -> None:
    def run(seed: int) -> object:
        return bootstrap_trades(
            TRADES, method="stationary", block_length=4.0, n_resamples=3000, seed=seed
        )

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_more_resamples_than_one_batch_is_still_one_stream() -> None:
    """2 500 resamples cross the 1 024-resample batches; the first 1 024 do not change."""
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    whole = resample_indices(len(TRADES), "stationary", 3.0, 1024, rng_a)
    again = resample_indices(len(TRADES), "stationary", 3.0, 1024, rng_b)
    assert np.array_equal(whole, again)
    big = bootstrap_trades(TRADES, method="stationary", block_length=3.0, n_resamples=2500, seed=5)
    assert big.total_pnl.samples == 2500


def test_winners_only_never_lose_and_never_draw_down() -> None:
    result = bootstrap_trades(
        [5.0, 1.0, 3.0, 2.0], method="stationary", block_length=2.0, n_resamples=500, seed=1
    )
    assert result.probability_of_loss == 0.0
    assert result.max_drawdown.at(95) == 0.0
    losers = bootstrap_trades(
        [-5.0, -1.0, -3.0], method="moving_block", block_length=2, n_resamples=500, seed=1
    )
    assert losers.probability_of_loss == 1.0


def test_iid_resampling_centres_on_the_observed_total() -> None:
    result = bootstrap_trades(
        TRADES, method="stationary", block_length=1.0, n_resamples=4000, seed=9
    )
    spread = np.std(TRADES, ddof=0) * np.sqrt(len(TRADES))
    assert abs(result.total_pnl.mean - result.observed_total_pnl) < 0.1 * spread
    assert result.total_pnl.at(5) < result.observed_total_pnl < result.total_pnl.at(95)
    assert 0.0 < result.probability_of_loss < 0.5
    assert result.sharpe is not None and result.observed_sharpe is not None
    assert result.sharpe.at(5) < result.observed_sharpe < result.sharpe.at(95)


def test_constant_trades_have_no_sharpe() -> None:
    result = bootstrap_trades(
        [2.0, 2.0, 2.0], method="stationary", block_length=1.5, n_resamples=20, seed=0
    )
    assert result.sharpe is None
    assert result.observed_sharpe is None
    assert result.total_pnl.mean == 6.0


@settings(deadline=None)
@given(
    n=st.integers(2, 60),
    length=st.integers(1, 60),
    seed=st.integers(0, 2**32),
)
def test_moving_blocks_are_runs_of_consecutive_trades(n: int, length: int, seed: int) -> None:
    length = min(length, n)
    idx = resample_indices(n, "moving_block", length, 5, np.random.default_rng(seed))
    assert idx.shape == (5, n)
    assert idx.min() >= 0 and idx.max() < n
    for start in range(0, n, length):
        block = idx[:, start : start + length]
        assert np.all(np.diff(block, axis=1) == 1)


@settings(deadline=None)
@given(n=st.integers(2, 60), seed=st.integers(0, 2**32))
def test_endless_stationary_blocks_are_rotations(n: int, seed: int) -> None:
    """With a mean block far longer than the history, each resample is one wrapped block."""
    idx = resample_indices(n, "stationary", 1e15, 5, np.random.default_rng(seed))
    assert idx.shape == (5, n)
    assert np.array_equal(idx, (idx[:, :1] + np.arange(n)) % n)


def test_a_rotation_keeps_the_total() -> None:
    trades = [5.0, 5.0, 5.0, -4.0, -4.0, -4.0]  # drawdown 12 from the start, 8 from the 5th
    result = bootstrap_trades(
        trades, method="stationary", block_length=1e15, n_resamples=200, seed=4
    )
    assert result.total_pnl.at(5) == pytest.approx(sum(trades))
    assert result.total_pnl.at(95) == pytest.approx(sum(trades))
    assert result.max_drawdown.at(5) < result.max_drawdown.at(95)  # the order still matters


def test_stationary_blocks_have_the_asked_mean_length() -> None:
    n, mean_length = 400, 8.0
    idx = resample_indices(n, "stationary", mean_length, 200, np.random.default_rng(2))
    breaks = np.count_nonzero(idx[:, 1:] != (idx[:, :-1] + 1) % n)
    runs = breaks + idx.shape[0]  # each row starts with a block
    assert idx.size / runs == pytest.approx(mean_length, rel=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pnls": [1.0]}, "at least 2 trades"),
        ({"pnls": [1.0, float("inf")]}, r"pnls\[1\]"),
        ({"block_length": 0.5}, "block_length"),
        ({"method": "moving_block", "block_length": 2.5}, "whole number"),
        ({"method": "moving_block", "block_length": 99}, "between 1 and the 48 trades"),
        ({"method": "circular"}, "method"),
        ({"n_resamples": 0}, "n_resamples"),
        ({"seed": -1}, "seed"),
        ({"percentiles": [50, 101]}, "percentiles"),
    ],
)
def test_bad_requests_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "pnls": TRADES,
        "method": "stationary",
        "block_length": 3.0,
        "n_resamples": 10,
        "seed": 1,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        bootstrap_trades(**args)  # type: ignore[arg-type]


def test_unknown_percentile_is_a_clear_key_error() -> None:
    result = bootstrap_trades(TRADES, method="stationary", block_length=3.0, n_resamples=10, seed=1)
    with pytest.raises(KeyError, match="computed: 5, 25, 50, 75, 95"):
        result.total_pnl.at(10)
