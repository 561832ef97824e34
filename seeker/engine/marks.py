"""The latest marks of a strategy's open positions: priced views, confidence scores, IV ranks."""

from __future__ import annotations

from dataclasses import dataclass, field

from seeker.agents.confidence import Confidence
from seeker.engine.signals import PositionView


@dataclass
class Marks:
    """What the last management poll saw, kept for publishing (by position or listing id)."""

    views: dict[str, PositionView] = field(default_factory=dict)
    confidence: dict[str, Confidence] = field(default_factory=dict)
    iv_rank: dict[str, float | None] = field(default_factory=dict)
