"""The root config model: each domain's own table, assembled into one ``seeker.toml``.

A facade: every table is declared by the module that owns it (the kernel's account, broker,
execution, commissions and universe; each agent's thresholds; the simulated market and IBKR
settings; each strategy's table, registered with its package) and assembled here. Every trading
value is required; only mechanics (log folder, poll interval) have defaults. Keys ending in
``_pct`` are percentages (10 means 10 %). Relative paths resolve against the config file's folder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, create_model, field_validator

from seeker.agents.account import LimitsConfig
from seeker.agents.bandit import BanditConfig
from seeker.agents.clusters import ClustersConfig
from seeker.agents.confidence import ConfidenceConfig
from seeker.agents.critic import CriticConfig
from seeker.agents.event_risk import EventsConfig
from seeker.agents.fx_router import FxConfig
from seeker.agents.liquidity import LiquidityConfig
from seeker.agents.regime import RegimeConfig
from seeker.agents.risk_guard import Caps, RiskConfig
from seeker.config.strategy import StrategyConfig
from seeker.core.account import AccountConfig
from seeker.core.alerts_config import AlertsConfig
from seeker.core.broker import BrokerConfig
from seeker.core.commissions import CommissionConfig, Commissions, commissions_from_config
from seeker.core.config_base import StrictModel
from seeker.core.execution import ExecutionConfig
from seeker.core.ibkr.settings import IbkrSettings
from seeker.core.models import Currency, Listing
from seeker.core.replay.config import ReplayConfig
from seeker.core.sim.settings import SimSettings
from seeker.core.universe import ListingConfig, listings_from_config


class RuntimeConfig(StrictModel):
    """Mechanics (defaults allowed): where journals go, how DECISION lines are written, how often
    Seeker reconciles."""

    log_dir: str = Field(default="logs", min_length=1)
    decision_lines: Literal["compact", "full"] = "compact"
    """``compact``: the regime and the strategy's rule written once and referenced (see
    ``seeker.core.decision_lines``); ``full``: every DECISION line carries them."""
    reconcile_interval_minutes: float = Field(default=30.0, gt=0.0, le=1440.0)
    """Clock minutes between two looks at the broker's executions and positions while running."""


class StrategiesConfig(StrictModel):
    """The ``[strategies]`` table: which strategies run, and one table per registered strategy.

    The per-strategy fields are added by ``build_config_model`` from the registry.
    """

    enabled: list[str]

    def table(self, name: str) -> StrategyConfig | None:
        """Return the table of one strategy (None when absent or not registered)."""
        value = getattr(self, name, None)
        return value if isinstance(value, StrategyConfig) else None


class SeekerConfig(StrictModel):
    """The whole config; the strategies table is typed per registry (``build_config_model``)."""

    account: AccountConfig
    broker: BrokerConfig
    risk: RiskConfig
    limits: LimitsConfig
    liquidity: LiquidityConfig
    events: EventsConfig
    fx: FxConfig
    bandit: BanditConfig
    clusters: ClustersConfig
    execution: ExecutionConfig
    confidence: ConfidenceConfig
    critic: CriticConfig
    regime: RegimeConfig
    rates: dict[Currency, float]
    commissions: dict[Currency, CommissionConfig]
    universe: dict[str, ListingConfig]
    strategies: StrategiesConfig
    sim: SimSettings | None = None
    ibkr: IbkrSettings | None = None
    alerts: AlertsConfig | None = None
    """Where alerts go (``[alerts]``); absent means off, like ``urls = []``."""
    replay: ReplayConfig | None = None
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator("rates")
    @classmethod
    def _sane_rates(cls, value: dict[str, float]) -> dict[str, float]:
        for ccy, rate in value.items():
            if not (math.isfinite(rate) and -0.05 <= rate <= 0.25):
                raise ValueError(f"rate for {ccy} must be within -0.05..0.25 per year, got {rate}")
        return value

    def listings(self) -> dict[str, Listing]:
        """Return the universe as domain Listing objects keyed by listing id."""
        return listings_from_config(self.universe)

    def caps(self, basis: float | None = None) -> Caps:
        """Return the Risk Guard's five caps in $ of the capital currency, as percentages of
        `basis` ($; the reference capital by default)."""
        return Caps.from_config(self.risk, self.account.capital if basis is None else basis)

    def commission_schedules(self) -> Commissions:
        """Return the commission schedules by currency."""
        return commissions_from_config(self.commissions)

    @property
    def base_dir(self) -> Path:
        """Return the folder of the config file (relative paths resolve against it)."""
        return self._base_dir

    def log_root(self) -> Path:
        """Return the journal folder.

        Unlike the files the config names (resolved against the config file's folder), a relative
        ``runtime.log_dir`` is relative to the working directory ``seeker`` runs in, like
        ``--log-dir``: the default ``logs`` is ``./logs`` wherever the config lives.
        """
        return Path(self.runtime.log_dir).expanduser()


def build_config_model(
    strategy_models: Mapping[str, type[StrategyConfig]],
) -> type[SeekerConfig]:
    """Return the root config model with one optional table per registered strategy."""
    fields: dict[str, Any] = {
        name: (model | None, None) for name, model in sorted(strategy_models.items())
    }
    strategies_model = create_model("StrategiesConfig", __base__=StrategiesConfig, **fields)
    model: type[SeekerConfig] = create_model(
        "SeekerConfig", __base__=SeekerConfig, strategies=(strategies_model, ...)
    )
    return model
