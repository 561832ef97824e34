"""``POST /risk/evaluate``: would the Risk Guard let a trade through, given committed risk?

The payload speaks the config's units: ``proposed_risk_pct`` and ``portfolio_risk_pct`` are
percentages of capital (as ``risk.max_per_trade_pct`` and ``risk.max_portfolio_pct``);
``sector_risk_pct``, ``corr_cluster_risk_pct`` and ``underlying_risk_pct`` are percentages of
the portfolio risk budget (capital × max_portfolio_pct, as the other three caps). The last four
are the risk committed *before* the proposed trade, which belongs to that sector, cluster and
underlying. The answer comes from the Risk Guard itself: a guard with the config's caps holds
reservations that reproduce exactly that committed risk, and is asked to reserve the trade.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from seeker.agents.risk_guard import EPS, Caps, Reservation, RiskGuard

Percent = Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)]


class RiskRequest(BaseModel):
    """The spec's payload (every field required, nothing else accepted)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    proposed_risk_pct: Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)]
    portfolio_risk_pct: Percent
    sector_risk_pct: Percent
    corr_cluster_risk_pct: Percent
    underlying_risk_pct: Percent


class RiskAnswer(BaseModel):
    """The spec's answer."""

    allowed: bool
    reason: str


class Inconsistent(ValueError):
    """The committed risks contradict each other; `field` names the one at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


SECTOR, CLUSTER, UNDERLYING = "sector", "cluster", "underlying"
_DIMENSION_FIELDS = {
    SECTOR: "sector_risk_pct",
    CLUSTER: "corr_cluster_risk_pct",
    UNDERLYING: "underlying_risk_pct",
}


def committed(req: RiskRequest, capital: float, max_portfolio_pct: float) -> dict[str, float]:
    """Return the committed risk in $ (portfolio, sector, cluster, underlying); Inconsistent
    when a part exceeds the whole."""
    budget = capital * max_portfolio_pct / 100.0
    used = {
        "portfolio": capital * req.portfolio_risk_pct / 100.0,
        SECTOR: budget * req.sector_risk_pct / 100.0,
        CLUSTER: budget * req.corr_cluster_risk_pct / 100.0,
        UNDERLYING: budget * req.underlying_risk_pct / 100.0,
    }
    for dim, name in _DIMENSION_FIELDS.items():
        if used[dim] > used["portfolio"] + EPS:
            raise Inconsistent(
                name,
                f"{name}: the {dim}'s committed risk ({used[dim]:.2f} $) exceeds the whole "
                f"portfolio's ({used['portfolio']:.2f} $, portfolio_risk_pct)",
            )
    return used


def _guard_holding(caps: Caps, used: dict[str, float]) -> RiskGuard:
    """Return a Risk Guard whose reservations total exactly `used` in every dimension.

    Nested reservations: the smallest committed dimension inside the next, inside the largest,
    and the rest of the portfolio elsewhere — so each dimension's total is its own figure.
    """
    guard = RiskGuard(caps)
    dims = sorted((SECTOR, CLUSTER, UNDERLYING), key=lambda d: used[d])
    clusters = {"proposed": "C*", "elsewhere": "C-other"}
    held = 0.0
    for i, dim in enumerate(dims):
        amount = used[dim] - held
        inside = set(dims[i:])
        lid = f"committed-{i}"
        clusters[lid] = "C*" if CLUSTER in inside else f"C-{i}"
        if amount > EPS:
            guard.restore(
                Reservation(
                    lid,
                    "committed",
                    lid,
                    "U*" if UNDERLYING in inside else f"U-{i}",
                    "S*" if SECTOR in inside else f"S-{i}",
                    amount,
                )
            )
        held = used[dim]
    rest = used["portfolio"] - held
    if rest > EPS:
        guard.restore(Reservation("elsewhere", "committed", "elsewhere", "U-x", "S-x", rest))
    guard.set_clusters(clusters)
    return guard


def evaluate(req: RiskRequest, capital: float, caps: Caps, max_portfolio_pct: float) -> RiskAnswer:
    """Return the Risk Guard's verdict on the proposed trade (Inconsistent for a bad payload)."""
    used = committed(req, capital, max_portfolio_pct)
    guard = _guard_holding(caps, used)
    risk = capital * req.proposed_risk_pct / 100.0
    verdict, _ = guard.reserve("proposed", "api", "proposed", "U*", "S*", [risk])
    return RiskAnswer(allowed=verdict.allowed, reason=verdict.reason)
