"""Load a config file: parse the TOML, validate it, and say every problem on one line each.

A problem names its dotted key (``universe.XLF.currency``), says what is wrong and, for a value,
what was given. Nothing is connected or sent before the whole config is valid.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from seeker.config.root import SeekerConfig, build_config_model
from seeker.config.strategy import StrategyConfig


class ConfigError(Exception):
    """Raise with every problem found, one dotted key per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


def _semantic_problems(cfg: SeekerConfig, registry_names: Iterable[str]) -> list[str]:
    problems: list[str] = []
    known = set(registry_names)
    universe = cfg.universe
    if not cfg.strategies.enabled:
        problems.append(
            "strategies.enabled: empty: name at least one strategy to run "
            f"(known: {', '.join(sorted(known))})"
        )
    for i, name in enumerate(cfg.strategies.enabled):
        if name not in known:
            listed = ", ".join(sorted(known))
            problems.append(f"strategies.enabled[{i}]: unknown strategy {name!r} (known: {listed})")
        elif cfg.strategies.table(name) is None:
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
        scfg = cfg.strategies.table(name)
        if scfg is None:
            continue
        for i, lid in enumerate(scfg.underlyings):
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
    problems.extend(_replay_problems(cfg))
    if cfg.account.capital_currency != cfg.account.base_currency and not {"USD", "CAD"} <= {
        cfg.account.capital_currency,
        cfg.account.base_currency,
    }:
        problems.append("account: capital and base currency must be USD or CAD")
    return problems


def _replay_problems(cfg: SeekerConfig) -> list[str]:
    """Return what a ``broker.kind = "replay"`` config lacks: its table, a listing per universe
    entry (and none beyond), a fee for each listing currency."""
    if cfg.broker.kind != "replay":
        return []
    replay = cfg.replay
    if replay is None:
        return ['replay: required key is missing (broker.kind = "replay")']
    problems: list[str] = []
    universe = cfg.universe
    for lid in sorted(set(universe) - set(replay.listings)):
        key = dotted(("replay", "listings", lid))
        problems.append(f"{key}: required key is missing (the listing is in the universe)")
    for lid in sorted(set(replay.listings) - set(universe)):
        problems.append(
            f"{dotted(('replay', 'listings', lid))}: unknown listing (not in the universe)"
        )
    for ccy in sorted({u.currency for u in universe.values()} - set(replay.exchange_fees)):
        problems.append(
            f"replay.exchange_fees.{ccy}: required key is missing (a listing uses {ccy})"
        )
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
    strategy_models: Mapping[str, type[StrategyConfig]],
    base_dir: Path,
) -> SeekerConfig:
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


def load_config(path: Path, strategy_models: Mapping[str, type[StrategyConfig]]) -> SeekerConfig:
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
