"""Contextual bandit (roadmap v2): its ``[bandit]`` table is validated now and not used yet."""

from __future__ import annotations

from pydantic import Field

from seeker.core.config_base import PositiveFloat, StrictModel


class BanditConfig(StrictModel):
    """LinUCB parameters: exploration weight and the size of the context vector."""

    alpha: PositiveFloat
    feature_dim: int = Field(ge=1)
