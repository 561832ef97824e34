"""The figures a grade reads besides the walk-forward: the DSR of the selection and a bootstrap.

Both wrap the statistics modules (`seeker.research.sharpe`, `seeker.research.bootstrap`) and turn
their results into the evidence records a study stores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seeker.research.bootstrap import bootstrap_trades
from seeker.research.evidence import BootstrapSummary, DsrResult
from seeker.research.runs import session_sharpe
from seeker.research.sharpe import deflate_returns


def dsr_of(candidate: np.ndarray, sharpes: Sequence[float]) -> DsrResult:
    """Return the DSR of the candidate's per-session P&L among the trials' per-session Sharpes.

    A candidate without a trade (a flat series) or with degenerate moments gets 0, and a note.
    """
    n = len(sharpes)
    if candidate.size < 2 or float(np.std(candidate)) == 0.0:
        return DsrResult(
            dsr=0.0,
            sharpe=0.0,
            n_obs=int(candidate.size),
            n_trials=n,
            trials_sharpe_variance=float(np.var(sharpes, ddof=1)) if n > 1 else 0.0,
            expected_max_sharpe=0.0,
            skewness=0.0,
            kurtosis=0.0,
            note="the candidate made no trade in its selection window: no Sharpe to deflate (0)",
        )
    try:
        d = deflate_returns(candidate, sharpes)
    except ValueError as exc:
        return DsrResult(
            dsr=0.0,
            sharpe=session_sharpe(candidate),
            n_obs=int(candidate.size),
            n_trials=n,
            trials_sharpe_variance=float(np.var(sharpes, ddof=1)) if n > 1 else 0.0,
            expected_max_sharpe=0.0,
            skewness=0.0,
            kurtosis=0.0,
            note=f"not computable ({exc}): counted as 0",
        )
    return DsrResult(
        dsr=d.dsr,
        sharpe=d.sharpe,
        n_obs=d.n_obs,
        n_trials=d.n_trials,
        trials_sharpe_variance=d.trials_sharpe_variance,
        expected_max_sharpe=d.expected_max_sharpe,
        skewness=d.skewness,
        kurtosis=d.kurtosis,
        note=f"{d.n_trials} trials, {d.n_obs} sessions; E[max SR] {d.expected_max_sharpe:.4f}",
    )


def bootstrap_summary(pnls: Sequence[float], resamples: int, seed: int) -> BootstrapSummary | None:
    """Return a stationary block bootstrap of trade P&Ls (mean block n^⅓), None below 2 trades."""
    if len(pnls) < 2:
        return None
    block = max(1.0, len(pnls) ** (1.0 / 3.0))
    b = bootstrap_trades(
        pnls, method="stationary", block_length=block, n_resamples=resamples, seed=seed
    )
    return BootstrapSummary(
        n_trades=b.n_trades,
        method=b.method,
        block_length=b.block_length,
        resamples=b.n_resamples,
        probability_of_loss=b.probability_of_loss,
        total_pnl_p5=b.total_pnl.at(5.0),
        total_pnl_p50=b.total_pnl.at(50.0),
        total_pnl_p95=b.total_pnl.at(95.0),
        max_drawdown_p50=b.max_drawdown.at(50.0),
        max_drawdown_p95=b.max_drawdown.at(95.0),
        sharpe_p5=None if b.sharpe is None else b.sharpe.at(5.0),
        sharpe_p50=None if b.sharpe is None else b.sharpe.at(50.0),
    )
