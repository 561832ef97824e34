"""The verdict every agent returns: allowed or not, why, an optional score and details."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

BlockedBy = Literal[
    "regime",
    "critic",
    "risk_guard",
    "liquidity",
    "event_risk",
    "fx_router",
    "data",
    "strategy",
    "account",
]
"""The agents a DECISION line may name as the one that refused."""


@dataclass(frozen=True)
class Verdict:
    """One agent's answer about one setup."""

    agent: str
    allowed: bool
    reason: str
    score: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the verdict as a journal-ready mapping."""
        return {
            "agent": self.agent,
            "allowed": self.allowed,
            "reason": self.reason,
            "score": self.score,
            "details": dict(self.details),
        }
