"""No infinite, NaN or absurd value passes the config, nor an empty strategies.enabled."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import ConfigError, dotted, validate_config
from tests.support import ROOT, seeker, shipped, strategy_config_models, write_config


def numeric_keys(node: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Yield the location of every number (int or float, not bool) in a parsed TOML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from numeric_keys(v, (*loc, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from numeric_keys(v, (*loc, i))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield loc


def with_value(
    loc: tuple[str | int, ...], value: float, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the shipped config (or `data`) with one number replaced."""
    data = shipped() if data is None else data
    node: Any = data
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = value
    return data


SHIPPED_NUMBERS = list(numeric_keys(shipped()))


def refusal(data: dict[str, Any]) -> list[str]:
    """Return the problems validation finds (empty when the config is valid)."""
    try:
        validate_config(data, strategy_config_models(), ROOT / "config")
    except ConfigError as exc:
        return exc.problems
    return []


def test_the_shipped_config_has_many_numbers_and_is_valid() -> None:
    assert len(SHIPPED_NUMBERS) > 100
    assert refusal(shipped()) == []


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_every_number_of_the_config_refuses_inf_and_nan_naming_its_key(value: float) -> None:
    data = shipped()
    for loc in SHIPPED_NUMBERS:  # all at once: validation names every key that fails
        with_value(loc, value, data)
    problems = refusal(data)
    accepted = [
        key for key in map(dotted, SHIPPED_NUMBERS) if not any(p.startswith(key) for p in problems)
    ]
    assert accepted == [], f"{len(accepted)} keys accept {value}: {accepted[:10]}"


def test_one_inf_is_enough_to_refuse_the_config() -> None:
    for loc in SHIPPED_NUMBERS[:: max(1, len(SHIPPED_NUMBERS) // 25)]:
        problems = refusal(with_value(loc, math.inf))
        assert any(p.startswith(dotted(loc)) for p in problems), (dotted(loc), problems)


@pytest.mark.parametrize(
    ("key", "absurd"),
    [
        ("execution.step_interval_seconds", 1e9),
        ("liquidity.max_quote_age_seconds", 1e12),
        ("fx.max_quote_age_seconds", 1e12),
        ("strategies.iron_condor.poll_interval_minutes", 1e7),
        ("strategies.iron_condor.scan_interval_minutes", 1e7),
        ("strategies.iron_condor.max_open_positions", 10**9),
        ("strategies.iron_condor.max_entries_per_day", 10**9),
        ("events.macro_buffer_days", 10**6),
        ("clusters.window_sessions", 10**7),
        ("execution.max_steps", 10**6),
    ],
)
def test_times_and_counts_have_upper_bounds(key: str, absurd: float) -> None:
    loc = tuple(key.split("."))
    problems = refusal(with_value(loc, absurd))
    assert any(p.startswith(key) for p in problems), problems


def test_check_config_refuses_inf_with_exit_2_naming_the_key(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, with_value(("account", "capital"), math.inf))
    res = seeker("check-config", str(cfg), cwd=tmp_path)
    assert res.returncode == 2, res.stdout
    assert "account.capital: Input should be a finite number (got inf)" in res.stderr


def test_check_config_refuses_an_empty_enabled_list_with_exit_2(tmp_path: Path) -> None:
    data = shipped()
    data["strategies"]["enabled"] = []
    cfg = write_config(tmp_path, data)
    res = seeker("check-config", str(cfg), cwd=tmp_path)
    assert res.returncode == 2, res.stdout
    assert "strategies.enabled: empty: name at least one strategy to run" in res.stderr
