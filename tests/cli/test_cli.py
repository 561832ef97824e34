"""The command line on the real simulated market: config errors, determinism, Ctrl+C, summary."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seeker.config.loading import ConfigError, validate_config
from seeker.core.journal import read_jsonl
from tests.support import ROOT, seeker, shipped, small, strategy_config_models, write_config


def test_shipped_config_is_valid() -> None:
    res = seeker("check-config", "config/seeker.toml", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "risk.max_per_trade_pct" in res.stdout and "is valid" in res.stdout


def _assert_refused(tmp_path: Path, data: dict[str, Any], key: str) -> None:
    cfg = write_config(tmp_path, data)
    for args in (
        ["check-config", str(cfg)],
        [
            "run",
            "iron_condor",
            "--config",
            str(cfg),
            "--days",
            "1",
            "--log-dir",
            str(tmp_path / "logs"),
        ],
    ):
        res = seeker(*args, cwd=tmp_path)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert key in res.stderr, res.stderr
    assert not (tmp_path / "logs").exists(), "nothing may be journaled when the config is refused"


def test_missing_required_key_exits_2_naming_it(tmp_path: Path) -> None:
    data = shipped()
    del data["risk"]["max_per_trade_pct"]
    _assert_refused(tmp_path, data, "risk.max_per_trade_pct: required key is missing")


def test_unknown_key_exits_2_naming_it(tmp_path: Path) -> None:
    data = shipped()
    data["liquidity"]["max_leg_spred"] = 0.05
    _assert_refused(tmp_path, data, "liquidity.max_leg_spred: unknown key")


def test_mistyped_value_exits_2_naming_it(tmp_path: Path) -> None:
    data = shipped()
    data["liquidity"]["min_open_interest"] = "500"
    _assert_refused(tmp_path, data, "liquidity.min_open_interest")


def test_out_of_range_value_exits_2_naming_it(tmp_path: Path) -> None:
    data = shipped()
    data["strategies"]["iron_condor"]["short_delta_max"] = 0.9
    _assert_refused(tmp_path, data, "strategies.iron_condor.short_delta_max")


def test_several_problems_one_line_each(tmp_path: Path) -> None:
    data = shipped()
    del data["fx"]["max_slippage_pips"]
    data["risk"]["max_portfolio_pct"] = -1
    data["universe"]["XLF"]["currency"] = "EUR"
    cfg = write_config(tmp_path, data)
    res = seeker("check-config", str(cfg), cwd=tmp_path)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 3, res.stderr
    assert any("fx.max_slippage_pips" in ln for ln in lines)
    assert any("risk.max_portfolio_pct" in ln for ln in lines)
    assert any("universe.XLF.currency" in ln for ln in lines)


def test_unknown_strategy_lists_the_known_ones() -> None:
    res = seeker("run", "iron_condorr", "--days", "1", cwd=ROOT)
    assert res.returncode == 2
    assert "unknown strategy 'iron_condorr'" in res.stderr and "iron_condor" in res.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    res = seeker("check-config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert res.returncode == 2 and "not found" in res.stderr


def _paths(d: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for k, v in d.items():
        out.append((*prefix, k))
        if isinstance(v, dict):
            out.extend(_paths(v, (*prefix, k)))
    return out


BASE = shipped()
ALL_PATHS = [
    p
    for p in _paths(BASE)
    if p[0] != "runtime" and p[-1] != "poll_interval_minutes" and p[-1] != "follows"
]
MODELS = strategy_config_models()
OPTIONAL_SECTIONS = {("alerts",), ("replay",), ("ibkr",)}
"""Mechanics a user may leave out: no ``[alerts]`` means no alerts, no ``[replay]`` no replay, no
``[ibkr]`` is fine while the broker is the simulator (the shipped config's)."""
MECHANIC_DEFAULTS: dict[tuple[str, ...], float] = {
    ("alerts", "timeout_seconds"): 10.0,
    ("alerts", "queue_size"): 100,
}
"""Mechanics with a documented default (README, Alerts): left out, the default applies."""


def _delete(path: tuple[str, ...]) -> dict[str, Any]:
    """Return the shipped config without the key at `path`."""
    data = shipped()
    node = data
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]
    return data


def _lookup(cfg: object, path: tuple[str, ...]) -> object:
    """Return the validated config's value at `path`."""
    for k in path:
        cfg = getattr(cfg, k)
    return cfg


def test_every_left_out_key_is_refused_by_name_unless_it_is_a_mechanic() -> None:
    """Every key of the shipped config, deleted one at a time (the fuzz below samples them)."""
    for path in ALL_PATHS:
        data = _delete(path)
        if path in OPTIONAL_SECTIONS:
            assert _lookup(validate_config(data, MODELS, ROOT / "config"), path) is None
            continue
        if path in MECHANIC_DEFAULTS:
            cfg = validate_config(data, MODELS, ROOT / "config")
            assert _lookup(cfg, path) == MECHANIC_DEFAULTS[path]
            continue
        with pytest.raises(ConfigError) as info:
            validate_config(data, MODELS, ROOT / "config")
        dotted = ".".join(f'"{p}"' if "." in p else p for p in path)
        named = (dotted, f"'{path[-1]}'")  # a whole listing left out: the keys that use it say so
        problems = info.value.problems
        assert any(n in line for line in problems for n in named), (dotted, problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_PATHS), st.sampled_from(["delete", "string", "list", "bogus"]))
def test_config_fuzzing_every_problem_names_its_key(path: tuple[str, ...], how: str) -> None:
    data = shipped()
    node = data
    for k in path[:-1]:
        node = node[k]
    leaf = path[-1]
    if how == "delete":
        del node[leaf]
        if path in OPTIONAL_SECTIONS:  # absent means off: valid, and off
            cfg = validate_config(data, MODELS, ROOT / "config")
            assert getattr(cfg, leaf) is None
            return
        if path in MECHANIC_DEFAULTS:  # a mechanic left out takes its documented default
            cfg = validate_config(data, MODELS, ROOT / "config")
            assert _lookup(cfg, path) == MECHANIC_DEFAULTS[path]
            return
    elif how == "string":
        node[leaf] = "oops" if not isinstance(node[leaf], str) else 12345
    elif how == "list":
        node[leaf] = [{"x": 1}]
    else:
        if isinstance(node[leaf], dict):
            node[leaf]["bogus_key"] = 1
        else:
            node[leaf + "_bogus"] = 1
    with pytest.raises(ConfigError) as info:
        validate_config(data, MODELS, ROOT / "config")
    dotted = ".".join(f'"{p}"' if "." in p else p for p in path)
    problems = info.value.problems
    assert problems
    if how != "bogus" and path[0] not in ("universe",):
        # a listing's sim settings left out: the listing that follows it names it
        named = (dotted, f"'{leaf}'") if how == "delete" else (dotted,)
        assert any(n in line for line in problems for n in named), (dotted, problems)


def _journal_text(root: Path) -> dict[str, bytes]:
    """Return the bytes of every journal file (plain and compressed) outside ``_seeker``."""
    out = {}
    for p in sorted(root.rglob("*.jsonl*")):
        if p.parent.name == "_seeker":
            continue
        out[str(p.relative_to(root))] = p.read_bytes()
    assert any(name.endswith("decisions.jsonl.gz") for name in out), sorted(out)
    return out


def test_same_seed_same_journal(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, small(shipped()))
    runs = []
    for name in ("a", "b"):
        res = seeker(
            "run",
            "broken_wing_butterfly",  # the strategy that orders within 8 sessions of the market
            "--config",
            str(cfg),
            "--days",
            "8",
            "--log-dir",
            str(tmp_path / name),
            cwd=tmp_path,
        )
        assert res.returncode == 0, res.stderr
        runs.append(_journal_text(tmp_path / name))
    assert runs[0] == runs[1]
    assert any(b"ORDER" in t for t in runs[0].values())


def test_sigint_stops_within_10_seconds_with_intact_journal(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, small(shipped()))
    logs = tmp_path / "logs"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seeker",
            "run",
            "iron_condor",
            "--config",
            str(cfg),
            "--log-dir",
            str(logs),
            "--speed",
            "3000",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(logs.glob("iron_condor/decisions.jsonl*")):
            time.sleep(0.2)
        time.sleep(3)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        out, errs = proc.communicate(timeout=10)
        assert time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, errs
    assert "stopped (SIGINT)" in out
    for path in logs.rglob("*.jsonl*"):
        plain = path.with_suffix("") if path.suffix == ".gz" else path
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert raw.endswith(b"\n")  # a clean stop finished every compressed member
        assert len(list(read_jsonl(plain))) == len([ln for ln in raw.splitlines() if ln.strip()])
    runs = [json.loads(ln) for ln in (logs / "_seeker" / "runs.jsonl").read_text().splitlines()]
    assert runs[-1]["status"] == "stopped" and runs[-1]["clean"] is True
    os.environ.get("CI")
