"""Helpers shared by tests: the shipped config as a dict, written variants, running the CLI."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from seeker.agents.selection import RegimeRule
from seeker.config.strategy import StrategyConfig
from seeker.engine.registry import config_models
from seeker.strategies import load

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "seeker.toml"


_parsed: dict[tuple[int, int], bytes] = {}
"""The shipped config parsed, pickled, by the file's (mtime, size): parsed once per change."""


def shipped() -> dict[str, Any]:
    """Return the shipped config as a dict (a fresh copy each time, the caller may change it).

    The TOML is parsed once (again if the file changes) and each call unpickles a copy: a test
    that deletes each of the 650-odd keys in turn spent two thirds of its time parsing it.
    """
    stat = SHIPPED.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    blob = _parsed.get(key)
    if blob is None:
        with SHIPPED.open("rb") as fh:
            blob = pickle.dumps(tomllib.load(fh), protocol=pickle.HIGHEST_PROTOCOL)
        _parsed.clear()
        _parsed[key] = blob
    return pickle.loads(blob)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return v.isoformat() if hasattr(v, "isoformat") else repr(v)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else f'"{k}"'


def dumps(data: dict[str, Any]) -> str:
    """Return TOML text for a nested dict (tables for dicts, inline values otherwise)."""
    lines: list[str] = []

    def table(prefix: list[str], d: dict[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in d.items() if isinstance(v, dict)}
        if prefix and (scalars or not subs):
            lines.append("[" + ".".join(_key(p) for p in prefix) + "]")
        for k, v in scalars.items():
            lines.append(f"{_key(k)} = {_toml_value(v)}")
        for k, v in subs.items():
            table([*prefix, k], v)

    table([], data)
    return "\n".join(lines) + "\n"


def write_config(tmp: Path, data: dict[str, Any], name: str = "seeker.toml") -> Path:
    """Write a config (and the event files it names, copied next to it) into `tmp`."""
    path = tmp / name
    path.write_text(dumps(data))
    events = ROOT / "config" / "events"
    if events.exists():
        dest = tmp / "events"
        dest.mkdir(exist_ok=True)
        for f in events.iterdir():
            (dest / f.name).write_bytes(f.read_bytes())
    return path


def small(data: dict[str, Any], underlyings: list[str] | None = None) -> dict[str, Any]:
    """Return a copy of the config whose strategies trade a few liquid underlyings (faster)."""
    out = copy.deepcopy(data)
    keep = underlyings or ["IWM", "EEM", "XLF", "XLE", "SLV", "BAC", "TD", "TD.TO"]
    for table in out["strategies"].values():
        if isinstance(table, dict) and "underlyings" in table:
            table["underlyings"] = [u for u in table["underlyings"] if u in keep] or keep[:1]
    return out


def seeker(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m seeker ARGS` in a subprocess and return its result."""
    return subprocess.run(
        [sys.executable, "-m", "seeker", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def condor_legs(chain: Any, expiry: Any, spot: float, band: float) -> tuple[Any, ...]:
    """Return a one-strike-wide iron condor from a chain: shorts just outside spot × (1 ± band)."""
    from seeker.core.models import Leg

    puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot * (1 - band)]
    calls = [q for q in chain.side(expiry, "C") if q.contract.strike > spot * (1 + band)]
    return (
        Leg(puts[-1].contract, "SELL"),
        Leg(puts[-2].contract, "BUY"),
        Leg(calls[0].contract, "SELL"),
        Leg(calls[1].contract, "BUY"),
    )


def strategy_config_models() -> dict[str, type[StrategyConfig]]:
    """Return the config model of every registered strategy (bundled ones loaded)."""
    return config_models(load())


def shipped_regime_rules() -> dict[str, RegimeRule]:
    """Return each enabled strategy's regime rule from the shipped config, in enabled order."""
    from seeker.config.loading import load_config

    cfg = load_config(SHIPPED, strategy_config_models())
    rules: dict[str, RegimeRule] = {}
    for name in cfg.strategies.enabled:
        table = cfg.strategies.table(name)
        assert table is not None
        rules[name] = table.regime
    return rules
