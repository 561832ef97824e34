"""The runtime config: pydantic models, loading, and one clear line per problem.

Every trading value is required; only mechanics (log folder, poll interval) have defaults. Keys
ending in ``_pct`` are percentages (10 means 10 %). Relative paths resolve against the config file's
folder. Strategy tables are validated by the models their packages register (see ``manager``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
)

from seeker.agents.confidence import ConfidenceConfig
from seeker.agents.critic import CriticConfig
from seeker.agents.event_risk import EventsConfig
from seeker.agents.fx_router import FxConfig
from seeker.agents.regime import RegimeConfig
from seeker.agents.selection import SelectionConfig
from seeker.core.calendar import EXCHANGE_CALENDAR, calendar_for_exchange
from seeker.core.config_base import StrictModel
from seeker.core.ibkr_settings import IbkrSettings
from seeker.core.models import Listing
from seeker.core.sim.settings import SimSettings

Currency = Literal["USD", "CAD"]
Pct = Annotated[float, Field(gt=0.0, le=100.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]


class ConfigError(Exception):
    """Raise with every problem found, one dotted key per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class AccountConfig(StrictModel):
    """The account Seeker manages."""

    capital: PositiveFloat
    capital_currency: Currency
    base_currency: Currency


class BrokerConfig(StrictModel):
    """Which broker to use and how to reach it."""

    kind: Literal["sim", "ibkr"]
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    client_id: int = Field(ge=0)
    allow_live: bool


class RiskConfig(StrictModel):
    """The five caps (per trade and portfolio: % of capital; the others: % of the risk budget)."""

    max_per_trade_pct: Pct
    max_portfolio_pct: Pct
    max_sector_pct: Pct
    max_corr_cluster_pct: Pct
    max_per_underlying_pct: Pct


class LiquidityConfig(StrictModel):
    """Liquidity thresholds every leg and chain must meet."""

    max_leg_spread: PositiveFloat
    min_open_interest: int = Field(ge=0)
    min_chain_volume: int = Field(ge=0)
    max_quote_age_seconds: PositiveFloat
    max_slippage_pct: PositiveFloat


class BanditConfig(StrictModel):
    """Contextual bandit parameters (roadmap v2; validated now, not used yet)."""

    alpha: PositiveFloat
    feature_dim: int = Field(ge=1)


class ClustersConfig(StrictModel):
    """Correlation clustering of the universe (hierarchical, on rolling daily returns)."""

    window_sessions: int = Field(ge=20)
    distance_threshold: float = Field(gt=0.0, le=2.0)
    linkage: Literal["average", "complete", "single"]


class CommissionConfig(StrictModel):
    """Option commissions in one currency."""

    per_contract: float = Field(ge=0.0)
    min_per_order: float = Field(ge=0.0)


class ExecutionConfig(StrictModel):
    """How limit orders walk from mid toward the natural price."""

    step_fraction: float = Field(gt=0.0, le=1.0)
    max_steps: int = Field(ge=0, le=20)
    step_interval_seconds: PositiveFloat


class ListingConfig(StrictModel):
    """One underlying of the universe."""

    symbol: str = Field(min_length=1)
    exchange: str
    currency: Currency
    sector: str = Field(min_length=1)
    kind: Literal["etf", "stock"]
    dividend_yield: float = Field(ge=0.0, le=0.5)
    strike_increment: float = Field(gt=0.0, le=10.0)

    @field_validator("exchange")
    @classmethod
    def _known_exchange(cls, value: str) -> str:
        if value.upper() not in EXCHANGE_CALENDAR:
            known = ", ".join(sorted(EXCHANGE_CALENDAR))
            raise ValueError(f"unknown exchange {value!r} (known: {known})")
        return value.upper()


class RuntimeConfig(StrictModel):
    """Mechanics: where journals go and how often the gateway is polled (defaults allowed)."""

    log_dir: str = "logs"


def _listing(listing_id: str, cfg: ListingConfig) -> Listing:
    return Listing(
        listing_id=listing_id,
        symbol=cfg.symbol,
        exchange=cfg.exchange,
        currency=cfg.currency,
        sector=cfg.sector,
        kind=cfg.kind,
        dividend_yield=cfg.dividend_yield,
        strike_increment=cfg.strike_increment,
        calendar=calendar_for_exchange(cfg.exchange),
    )


class SeekerConfigBase(StrictModel):
    """Fields common to every config; the strategies table is added per registry."""

    account: AccountConfig
    broker: BrokerConfig
    risk: RiskConfig
    liquidity: LiquidityConfig
    events: EventsConfig
    fx: FxConfig
    bandit: BanditConfig
    clusters: ClustersConfig
    execution: ExecutionConfig
    confidence: ConfidenceConfig
    critic: CriticConfig
    regime: RegimeConfig
    selection: SelectionConfig
    rates: dict[Currency, float]
    commissions: dict[Currency, CommissionConfig]
    universe: dict[str, ListingConfig]
    sim: SimSettings | None = None
    ibkr: IbkrSettings | None = None
    runtime: RuntimeConfig = RuntimeConfig()
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
        return {lid: _listing(lid, cfg) for lid, cfg in self.universe.items()}

    @property
    def base_dir(self) -> Path:
        """Return the folder of the config file (relative paths resolve against it)."""
        return self._base_dir

    def log_root(self) -> Path:
        """Return the journal folder; a relative log_dir is relative to the working directory."""
        return Path(self.runtime.log_dir).expanduser()


def build_config_model(strategy_models: Mapping[str, type[BaseModel]]) -> type[SeekerConfigBase]:
    """Return the root config model with one optional table per registered strategy."""
    fields: dict[str, Any] = {"enabled": (list[str], ...)}
    for name, model in sorted(strategy_models.items()):
        fields[name] = (model | None, None)
    strategies_model = create_model(  # type: ignore[call-overload]
        "StrategiesConfig", __base__=StrictModel, **fields
    )
    return create_model(  # type: ignore[call-overload]
        "SeekerConfig", __base__=SeekerConfigBase, strategies=(strategies_model, ...)
    )


def dotted(loc: Iterable[int | str]) -> str:
    """Return a pydantic error location as a dotted key, e.g. ``universe.XLF.currency``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if "." in text or " " in text:
                text = f'"{text}"'
            out += ("." if out else "") + text
    return out


_MESSAGES = {
    "missing": "required key is missing (no default for trading values)",
    "extra_forbidden": "unknown key",
}


def _describe(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    loc = [p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))]
    key = dotted(loc) or "(top level)"
    if kind in _MESSAGES:
        return f"{key}: {_MESSAGES[kind]}"
    got = err.get("input")
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if isinstance(got, (dict, list)):
        return f"{key}: {msg}"
    return f"{key}: {msg} (got {got!r})"


def _semantic_problems(cfg: Any, registry_names: Iterable[str]) -> list[str]:
    problems: list[str] = []
    known = set(registry_names)
    universe = cfg.universe
    for i, name in enumerate(cfg.strategies.enabled):
        if name not in known:
            listed = ", ".join(sorted(known))
            problems.append(f"strategies.enabled[{i}]: unknown strategy {name!r} (known: {listed})")
        elif getattr(cfg.strategies, name) is None:
            problems.append(f"strategies.{name}: required key is missing (the strategy is enabled)")
    if len(set(cfg.strategies.enabled)) != len(cfg.strategies.enabled):
        problems.append("strategies.enabled: a strategy is listed twice")
    currencies = {u.currency for u in universe.values()} | {
        cfg.account.capital_currency,
        cfg.account.base_currency,
    }
    for ccy in sorted(currencies):
        if ccy not in cfg.rates:
            problems.append(
                f"rates.{ccy}: required key is missing (a listing or the account uses {ccy})"
            )
        if ccy not in cfg.commissions:
            problems.append(f"commissions.{ccy}: required key is missing (a listing uses {ccy})")
    for name in sorted(known):
        scfg = getattr(cfg.strategies, name, None)
        if scfg is None:
            continue
        for i, lid in enumerate(getattr(scfg, "underlyings", [])):
            if lid not in universe:
                problems.append(
                    f"strategies.{name}.underlyings[{i}]: {lid!r} is not in the universe"
                )
    for i, pair in enumerate(cfg.fx.cross_listings):
        for j, lid in enumerate(pair):
            if lid not in universe:
                problems.append(f"fx.cross_listings[{i}][{j}]: {lid!r} is not in the universe")
        if (
            all(lid in universe for lid in pair)
            and len({universe[lid].symbol for lid in pair}) != 1
        ):
            problems.append(
                f"fx.cross_listings[{i}]: the listings must be one company (same symbol)"
            )
    if cfg.broker.kind == "ibkr" and cfg.ibkr is None:
        problems.append('ibkr: required key is missing (broker.kind = "ibkr")')
    if cfg.broker.kind == "sim":
        if cfg.sim is None:
            problems.append('sim: required key is missing (broker.kind = "sim")')
        else:
            for lid in sorted(set(universe) - set(cfg.sim.listings)):
                key = dotted(("sim", "listings", lid))
                problems.append(f"{key}: required key is missing (the listing is in the universe)")
            for lid in sorted(set(cfg.sim.listings) - set(universe)):
                key = dotted(("sim", "listings", lid))
                problems.append(f"{key}: unknown listing (not in the universe)")
            for lid, lcfg in cfg.sim.listings.items():
                follows = getattr(lcfg, "follows", None)
                if follows and follows not in universe:
                    key = dotted(("sim", "listings", lid, "follows"))
                    problems.append(f"{key}: {follows!r} is not in the universe")
    if cfg.account.capital_currency != cfg.account.base_currency and not {"USD", "CAD"} <= {
        cfg.account.capital_currency,
        cfg.account.base_currency,
    }:
        problems.append("account: capital and base currency must be USD or CAD")
    return problems


def read_toml(path: Path) -> dict[str, Any]:
    """Return the parsed TOML file, or raise ConfigError with one line saying why not."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None


def validate_config(
    data: Mapping[str, Any],
    strategy_models: Mapping[str, type[BaseModel]],
    base_dir: Path,
) -> Any:
    """Return the validated config, or raise ConfigError listing every problem."""
    model = build_config_model(strategy_models)
    try:
        cfg = model.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        problems = sorted({_describe(e) for e in exc.errors()})
        raise ConfigError(problems) from None
    problems = _semantic_problems(cfg, strategy_models)
    if problems:
        raise ConfigError(problems)
    cfg._base_dir = base_dir
    return cfg


def load_config(path: Path, strategy_models: Mapping[str, type[BaseModel]]) -> Any:
    """Load, validate and return the config at `path` (ConfigError on any problem)."""
    path = path.expanduser()
    data = read_toml(path)
    return validate_config(data, strategy_models, path.resolve().parent)


def flatten(obj: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Return (dotted key, value) rows of a config for display."""
    rows: list[tuple[str, str]] = []
    if isinstance(obj, BaseModel):
        items: Iterable[tuple[str, Any]] = (
            (k, getattr(obj, k)) for k in type(obj).model_fields if getattr(obj, k) is not None
        )
    elif isinstance(obj, dict):
        items = obj.items()
    else:
        return [(prefix, _fmt(obj))]
    for key, value in items:
        k = str(key)
        if "." in k:
            k = f'"{k}"'
        rows.extend(flatten(value, f"{prefix}.{k}" if prefix else k))
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
