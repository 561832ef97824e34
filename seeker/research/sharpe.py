"""Sharpe ratios that account for how they were found: probabilistic and deflated.

Every Sharpe ratio here is *per period* (per day, per trade…) unless the name says "annual".
References:

- Bailey, D. H. and López de Prado, M. (2012), "The Sharpe Ratio Efficient Frontier",
  Journal of Risk 15(2): the standard error of an estimated Sharpe ratio under non-normal returns
  and the Probabilistic Sharpe Ratio (PSR).
- Bailey, D. H. and López de Prado, M. (2014), "The Deflated Sharpe Ratio: Correcting for
  Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5):
  the expected maximum Sharpe ratio of N independent trials and the Deflated Sharpe Ratio (DSR).

Formulas (SR per period, T returns, γ₃ skewness, γ₄ kurtosis, *not* excess, so 3 for a normal):

    σ(SR)      = sqrt((1 − γ₃·SR + (γ₄ − 1)/4 · SR²) / (T − 1))
    PSR(SR*)   = Φ((SR − SR*) / σ(SR))
    E[max SR]  ≈ sqrt(V) · ((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))     (γ: Euler–Mascheroni)
    DSR        = PSR(E[max SR])

where V is the variance of the N trials' per-period Sharpe ratios.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

EULER_MASCHERONI = float(np.euler_gamma)
"""γ ≈ 0.5772156649, the Euler–Mascheroni constant of the expected-maximum formula."""


@dataclass(frozen=True)
class ReturnMoments:
    """What the PSR/DSR need from a return series: its length, Sharpe and shape."""

    n_obs: int
    sharpe: float
    skewness: float
    kurtosis: float


@dataclass(frozen=True)
class DeflatedSharpe:
    """A Deflated Sharpe Ratio with the figures it was computed from (per period)."""

    sharpe: float
    n_obs: int
    n_trials: int
    trials_sharpe_variance: float
    skewness: float
    kurtosis: float
    expected_max_sharpe: float
    standard_error: float
    z_score: float
    dsr: float


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (got {value!r})")
    return float(value)


def _as_returns(returns: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(returns, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"returns must be a flat sequence (got shape {arr.shape})")
    if arr.size < 2:
        raise ValueError(f"a Sharpe ratio needs at least 2 returns (got {arr.size})")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"returns[{bad}] is not a finite number ({arr[bad]!r})")
    return arr


def sharpe_ratio(returns: Sequence[float] | np.ndarray) -> float:
    """Return the per-period Sharpe ratio: mean / sample standard deviation (no risk-free rate).

    Raise ValueError when the returns are constant (the ratio is undefined).
    """
    arr = _as_returns(returns)
    std = float(np.std(arr, ddof=1))
    if std == 0.0:
        raise ValueError("the Sharpe ratio of constant returns is undefined (zero deviation)")
    return float(np.mean(arr)) / std


def annualise_sharpe(sharpe: float, periods_per_year: float) -> float:
    """Return the annual Sharpe ratio of a per-period one: SR × sqrt(periods per year)."""
    return _finite("sharpe", sharpe) * math.sqrt(_positive("periods_per_year", periods_per_year))


def per_period_sharpe(annual_sharpe: float, periods_per_year: float) -> float:
    """Return the per-period Sharpe ratio of an annual one: SR / sqrt(periods per year)."""
    return _finite("annual_sharpe", annual_sharpe) / math.sqrt(
        _positive("periods_per_year", periods_per_year)
    )


def per_period_variance(annual_variance: float, periods_per_year: float) -> float:
    """Return the variance of per-period Sharpe ratios from that of annual ones: V / periods."""
    if _finite("annual_variance", annual_variance) < 0.0:
        raise ValueError(f"a variance cannot be negative (got {annual_variance})")
    return annual_variance / _positive("periods_per_year", periods_per_year)


def _positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{name} must be a positive finite number (got {value!r})")
    return float(value)


def return_moments(returns: Sequence[float] | np.ndarray) -> ReturnMoments:
    """Return the length, per-period Sharpe, skewness and (non-excess) kurtosis of returns.

    Skewness and kurtosis are the plain sample moments (scipy's biased estimators), as in the
    papers; a normal sample has kurtosis ≈ 3.
    """
    arr = _as_returns(returns)
    sharpe = sharpe_ratio(arr)
    skew = float(stats.skew(arr, bias=True))
    kurt = float(stats.kurtosis(arr, fisher=False, bias=True))
    return ReturnMoments(n_obs=int(arr.size), sharpe=sharpe, skewness=skew, kurtosis=kurt)


def sharpe_standard_error(sharpe: float, n_obs: int, skewness: float, kurtosis: float) -> float:
    """Return σ(SR) of a per-period Sharpe estimated from `n_obs` returns of that shape.

    σ(SR) = sqrt((1 − γ₃·SR + (γ₄ − 1)/4 · SR²) / (T − 1)). `kurtosis` is the plain one (3 for
    a normal). Raise ValueError on impossible moments (kurtosis < 1 + skewness², Pearson).
    """
    sr = _finite("sharpe", sharpe)
    skew = _finite("skewness", skewness)
    kurt = _finite("kurtosis", kurtosis)
    if n_obs < 2:
        raise ValueError(f"n_obs must be at least 2 (got {n_obs})")
    if kurt < 1.0 + skew * skew - 1e-9:
        raise ValueError(
            f"kurtosis {kurt} is impossible with skewness {skew}: it must be ≥ 1 + skewness² "
            f"= {1.0 + skew * skew} (kurtosis is the plain one, 3 for a normal, not the excess)"
        )
    spread = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if spread <= 0.0:
        raise ValueError(
            f"the Sharpe ratio's variance is not positive for SR={sr}, skewness={skew}, "
            f"kurtosis={kurt}: these moments are degenerate"
        )
    return math.sqrt(spread / (n_obs - 1))


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, n_obs: int, skewness: float, kurtosis: float
) -> float:
    """Return PSR(SR*): the probability that the true per-period Sharpe exceeds `benchmark`.

    PSR = Φ((SR − SR*) / σ(SR)) (Bailey & López de Prado 2012), in [0, 1].
    """
    se = sharpe_standard_error(sharpe, n_obs, skewness, kurtosis)
    z = (sharpe - _finite("benchmark", benchmark)) / se
    return float(stats.norm.cdf(z))


def expected_max_sharpe(n_trials: int, trials_sharpe_variance: float) -> float:
    """Return E[max SR] of `n_trials` independent zero-skill trials (same unit as the variance).

    E[max SR] ≈ sqrt(V)·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))), γ the Euler–Mascheroni
    constant (Bailey & López de Prado 2014, after the false strategy theorem). One trial has no
    selection bias: its expected maximum is its expected value, 0.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a whole number ≥ 1 (got {n_trials!r})")
    variance = _finite("trials_sharpe_variance", trials_sharpe_variance)
    if variance < 0.0:
        raise ValueError(f"trials_sharpe_variance cannot be negative (got {variance})")
    if n_trials == 1:
        return 0.0
    g = EULER_MASCHERONI
    quantiles = (1.0 - g) * stats.norm.ppf(1.0 - 1.0 / n_trials) + g * stats.norm.ppf(
        1.0 - 1.0 / (n_trials * math.e)
    )
    return math.sqrt(variance) * float(quantiles)


def deflate(
    sharpe: float,
    n_obs: int,
    n_trials: int,
    trials_sharpe_variance: float,
    skewness: float,
    kurtosis: float,
) -> DeflatedSharpe:
    """Return the Deflated Sharpe Ratio of the best of `n_trials`, with its intermediate figures.

    All Sharpe figures per period: `sharpe` is the selected trial's, `trials_sharpe_variance` the
    variance of all trials' per-period Sharpe ratios (convert annual figures first with
    `per_period_sharpe` and `per_period_variance`). DSR = PSR(E[max SR]).
    """
    expected = expected_max_sharpe(n_trials, trials_sharpe_variance)
    se = sharpe_standard_error(sharpe, n_obs, skewness, kurtosis)
    z = (sharpe - expected) / se
    return DeflatedSharpe(
        sharpe=float(sharpe),
        n_obs=n_obs,
        n_trials=n_trials,
        trials_sharpe_variance=float(trials_sharpe_variance),
        skewness=float(skewness),
        kurtosis=float(kurtosis),
        expected_max_sharpe=expected,
        standard_error=se,
        z_score=z,
        dsr=float(stats.norm.cdf(z)),
    )


def deflated_sharpe_ratio(
    sharpe: float,
    n_obs: int,
    n_trials: int,
    trials_sharpe_variance: float,
    skewness: float,
    kurtosis: float,
) -> float:
    """Return the DSR in [0, 1]: the probability the selected per-period Sharpe is real skill."""
    return deflate(sharpe, n_obs, n_trials, trials_sharpe_variance, skewness, kurtosis).dsr


def deflate_returns(
    returns: Sequence[float] | np.ndarray, trial_sharpes: Sequence[float] | np.ndarray
) -> DeflatedSharpe:
    """Return the DSR of the selected trial's `returns` among all trials' per-period Sharpes.

    `trial_sharpes` holds every trial's per-period Sharpe ratio (the selected one included); the
    number of trials is its length and V its sample variance.
    """
    moments = return_moments(returns)
    sharpes = np.asarray(trial_sharpes, dtype=float)
    if sharpes.ndim != 1 or sharpes.size < 1:
        raise ValueError("trial_sharpes must list at least one trial's Sharpe ratio")
    if not np.all(np.isfinite(sharpes)):
        raise ValueError("every trial Sharpe ratio must be a finite number")
    variance = float(np.var(sharpes, ddof=1)) if sharpes.size > 1 else 0.0
    return deflate(
        moments.sharpe,
        moments.n_obs,
        int(sharpes.size),
        variance,
        moments.skewness,
        moments.kurtosis,
    )
