"""Liquidity veto: bid/ask per leg, open interest per strike, and the chain's daily volume."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import Field

from seeker.agents.verdict import Verdict
from seeker.core.config_base import PositiveFloat, StrictModel
from seeker.core.models import OptionQuote


class LiquidityConfig(StrictModel):
    """Liquidity thresholds every leg and chain must meet (the ``[liquidity]`` table)."""

    max_leg_spread: PositiveFloat
    min_open_interest: int = Field(ge=0)
    min_chain_volume: int = Field(ge=0)
    max_quote_age_seconds: float = Field(gt=0.0, le=86_400.0)
    max_slippage_pct: PositiveFloat


def check_liquidity(
    quotes: Sequence[OptionQuote],
    chain_volume: int | None,
    max_leg_spread: float,
    min_open_interest: int,
    min_chain_volume: int,
    slippage_pct: float | None = None,
    max_slippage_pct: float | None = None,
) -> Verdict:
    """Refuse when a leg's spread is too wide, its open interest too low, the chain too quiet, or
    the slippage the order may concede (its last limit vs the mid, % of the mid) too large.

    Unknown open interest, volume or spread is missing data, hence a refusal, never a pass; the
    verdict's ``missing_data`` detail then lists what is unknown (a refusal the pipeline files
    under ``blocked_by: "data"``), and is absent when every datum was known.
    """
    problems: list[str] = []
    missing: list[str] = []
    legs = []
    for q in quotes:
        spread = q.ask - q.bid
        legs.append(
            {
                "contract": q.contract.key,
                "spread": round(spread, 4),
                "open_interest": q.open_interest,
            }
        )
        if not math.isfinite(spread):
            problems.append(f"{q.contract.key}: spread unknown")
            missing.append(f"{q.contract.key}: bid/ask")
        elif spread > max_leg_spread + 1e-9:
            problems.append(f"{q.contract.key}: spread {spread:.2f} > {max_leg_spread:.2f}")
        if q.open_interest is None:
            problems.append(f"{q.contract.key}: open interest unknown")
            missing.append(f"{q.contract.key}: open interest")
        elif q.open_interest < min_open_interest:
            problems.append(
                f"{q.contract.key}: open interest {q.open_interest} < {min_open_interest}"
            )
    if slippage_pct is not None and max_slippage_pct is not None:
        if not math.isfinite(slippage_pct):
            problems.append("slippage unknown")
            missing.append("slippage")
        elif slippage_pct > max_slippage_pct + 1e-9:
            problems.append(
                f"slippage up to {slippage_pct:.0f} % of mid > {max_slippage_pct:.0f} %"
            )
    if chain_volume is None:
        problems.append("chain volume unknown")
        missing.append("chain volume")
    elif chain_volume < min_chain_volume:
        problems.append(f"chain volume {chain_volume} < {min_chain_volume}")
    details: dict[str, object] = {
        "legs": legs,
        "chain_volume": chain_volume,
        "slippage_pct": slippage_pct,
    }
    if missing:
        details["missing_data"] = missing
    if problems:
        return Verdict("liquidity", False, "; ".join(problems), details=details)
    widest = max((leg["spread"] for leg in legs), default=0.0)
    return Verdict("liquidity", True, f"widest leg spread {widest:.2f}", details=details)
