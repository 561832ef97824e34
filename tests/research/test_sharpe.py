"""Tests for seeker.research.sharpe: the DSR paper's example, closed forms, properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from seeker.research.sharpe import (
    EULER_MASCHERONI,
    annualise_sharpe,
    deflate,
    deflate_returns,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    per_period_sharpe,
    per_period_variance,
    probabilistic_sharpe_ratio,
    return_moments,
    sharpe_ratio,
    sharpe_standard_error,
)


def test_paper_example_deflated_sharpe_ratio() -> None:
    """Bailey & López de Prado (2014), numerical example: 100 trials, 5 years of daily returns.

    Annual figures: SR = 2.5, V[SR_n] = 0.5; γ₃ = −3, γ₄ = 10; T = 1 250; 250 days a year.
    The paper converts to daily: SR = 2.5/√250 ≈ 0.1581, E[max SR] ≈ 0.1132, DSR ≈ 0.9004.
    """
    days = 250
    sr = per_period_sharpe(2.5, days)
    variance = per_period_variance(0.5, days)
    assert sr == pytest.approx(0.158114, abs=1e-6)
    assert variance == pytest.approx(0.002)

    # E[max SR] ≈ √V·((1−γ)Φ⁻¹(1−1/N) + γΦ⁻¹(1−1/(Ne))) with Φ⁻¹(0.99) ≈ 2.3263 and
    # Φ⁻¹(1 − 1/(100e)) ≈ 2.6802: 1.7894 a year, 0.1132 a day.
    assert stats.norm.ppf(0.99) == pytest.approx(2.326348, abs=1e-6)
    assert stats.norm.ppf(1 - 1 / (100 * math.e)) == pytest.approx(2.680210, abs=1e-5)
    assert math.isclose(EULER_MASCHERONI, 0.5772156649, abs_tol=1e-10)
    assert expected_max_sharpe(100, 0.5) == pytest.approx(1.789406, abs=1e-5)
    result = deflate(sr, 1250, 100, variance, skewness=-3.0, kurtosis=10.0)
    assert result.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert annualise_sharpe(result.expected_max_sharpe, days) == pytest.approx(1.789406, abs=1e-5)

    # σ(SR) = √((1 + 3·0.1581 + 9/4·0.1581²)/1249) ≈ 0.0350; z = (0.1581 − 0.1132)/0.0350 ≈ 1.284
    assert result.standard_error == pytest.approx(0.035006, abs=1e-6)
    assert result.z_score == pytest.approx(1.2838, abs=1e-4)
    assert result.dsr == pytest.approx(0.9004, abs=5e-5)
    assert deflated_sharpe_ratio(sr, 1250, 100, variance, -3.0, 10.0) == result.dsr


def test_normal_returns_standard_error_is_the_textbook_one() -> None:
    """With γ₃ = 0 and γ₄ = 3 the variance is (1 + SR²/2)/(T − 1) (Lo 2002)."""
    se = sharpe_standard_error(0.1, 501, 0.0, 3.0)
    assert se == pytest.approx(math.sqrt((1 + 0.1**2 / 2) / 500))


def test_psr_is_one_half_at_the_benchmark_and_grows_with_the_track_record() -> None:
    assert probabilistic_sharpe_ratio(0.08, 0.08, 300, -0.5, 4.0) == pytest.approx(0.5)
    short = probabilistic_sharpe_ratio(0.08, 0.0, 60, -0.5, 4.0)
    long = probabilistic_sharpe_ratio(0.08, 0.0, 600, -0.5, 4.0)
    assert 0.5 < short < long < 1.0


def test_fat_left_tail_lowers_the_psr() -> None:
    normal = probabilistic_sharpe_ratio(0.1, 0.0, 250, 0.0, 3.0)
    crashy = probabilistic_sharpe_ratio(0.1, 0.0, 250, -2.0, 12.0)
    assert crashy < normal


def test_expected_max_sharpe_tracks_a_monte_carlo_of_max_of_normals() -> None:
    """The approximation is close to the simulated mean maximum of N standard normals.

    It is an asymptotic one: ~3.5 % high at N = 10, under 1 % from N = 100.
    """
    rng = np.random.default_rng(7)
    for n_trials, tolerance in ((10, 0.05), (100, 0.015), (1000, 0.015)):
        simulated = rng.standard_normal((4000, n_trials)).max(axis=1).mean()
        assert expected_max_sharpe(n_trials, 1.0) == pytest.approx(simulated, rel=tolerance)
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(100, 0.0) == 0.0


def test_sharpe_and_moments_of_a_known_series() -> None:
    returns = [0.01, -0.02, 0.03, 0.0, 0.015]
    mean, std = np.mean(returns), np.std(returns, ddof=1)
    assert sharpe_ratio(returns) == pytest.approx(mean / std)
    m = return_moments(returns)
    assert m.n_obs == 5
    assert m.sharpe == pytest.approx(mean / std)
    assert m.skewness == pytest.approx(stats.skew(returns))
    assert m.kurtosis == pytest.approx(stats.kurtosis(returns) + 3.0)
    assert annualise_sharpe(per_period_sharpe(1.3, 252), 252) == pytest.approx(1.3)


def test_deflate_returns_uses_the_trials_count_and_variance() -> None:
    rng = np.random.default_rng(11)
    returns = rng.normal(0.001, 0.01, 500)
    trial_sharpes = rng.normal(0.0, 0.05, 40)
    got = deflate_returns(returns, trial_sharpes)
    m = return_moments(returns)
    want = deflate(m.sharpe, 500, 40, float(np.var(trial_sharpes, ddof=1)), m.skewness, m.kurtosis)
    assert got == want
    assert got.n_trials == 40


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sharpe_ratio([1.0, 1.0, 1.0]), "constant returns"),
        (lambda: sharpe_ratio([1.0]), "at least 2 returns"),
        (lambda: sharpe_ratio([1.0, float("nan")]), r"returns\[1\]"),
        (lambda: sharpe_standard_error(0.1, 100, -3.0, 9.0), "1 \\+ skewness²"),
        (lambda: sharpe_standard_error(0.1, 1, 0.0, 3.0), "n_obs"),
        (lambda: expected_max_sharpe(0, 1.0), "n_trials"),
        (lambda: expected_max_sharpe(10, -1.0), "negative"),
        (lambda: per_period_sharpe(2.0, 0), "periods_per_year"),
        (lambda: deflate_returns([0.1, 0.2, 0.0], []), "at least one trial"),
    ],
)
def test_bad_input_is_refused_with_the_reason(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


# Per-period Sharpe ratios of real strategies are well below 1; on this domain |γ₃·SR| < 2 and the
# DSR is monotone in the observed Sharpe (outside it, a strongly right-skewed series can see its
# standard error grow faster than its Sharpe).
sharpes = st.floats(-0.3, 0.3)
skews = st.floats(-3.0, 3.0)
trials = st.integers(1, 10_000)
variances = st.floats(0.0, 0.01)


@st.composite
def shapes(draw: st.DrawFn) -> tuple[float, float]:
    skew = draw(skews)
    return skew, 1.0 + skew * skew + draw(st.floats(0.01, 20.0))


@settings(deadline=None)
@given(sharpes, sharpes, st.integers(10, 5000), trials, variances, shapes())
def test_dsr_is_a_probability_increasing_with_the_observed_sharpe(
    sr_a: float,
    sr_b: float,
    n_obs: int,
    n_trials: int,
    variance: float,
    shape: tuple[float, float],
) -> None:
    low, high = sorted((sr_a, sr_b))
    dsr_low = deflated_sharpe_ratio(low, n_obs, n_trials, variance, *shape)
    dsr_high = deflated_sharpe_ratio(high, n_obs, n_trials, variance, *shape)
    assert 0.0 <= dsr_low <= dsr_high <= 1.0


@settings(deadline=None)
@given(sharpes, st.integers(10, 5000), trials, trials, variances, shapes())
def test_dsr_falls_as_more_trials_were_run(
    sr: float,
    n_obs: int,
    n_a: int,
    n_b: int,
    variance: float,
    shape: tuple[float, float],
) -> None:
    few, many = sorted((n_a, n_b))
    assert deflated_sharpe_ratio(sr, n_obs, many, variance, *shape) <= deflated_sharpe_ratio(
        sr, n_obs, few, variance, *shape
    )


def test_dsr_strictly_falls_with_trials_where_it_is_not_saturated() -> None:
    values = [deflated_sharpe_ratio(0.05, 250, n, 0.002, -0.5, 4.0) for n in (1, 2, 10, 100, 1000)]
    assert all(a > b for a, b in itertools.pairwise(values))
