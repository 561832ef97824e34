"""Controlled parameter editing: validated by the config models, a diff, a new file, journaled."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.config.loading import load_config
from seeker.core.journal import read_jsonl
from seeker.web.params import parse_value
from tests.support import strategy_config_models
from tests.web.support import AUTH, client_for, settings_for


@pytest.fixture
def client(journals: tuple[Path, Path]) -> Any:
    with client_for(settings_for(*journals)) as c:
        yield c


def configs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.toml"))


@pytest.mark.parametrize(
    ("edits", "named"),
    [
        ({"risk.max_per_trade_pct": "150"}, "risk.max_per_trade_pct"),
        ({"risk.max_per_trade_pct": "nan"}, "risk.max_per_trade_pct"),
        ({"risk.max_per_trade_pct": "ten"}, "risk.max_per_trade_pct"),
        ({"liquidity.min_open_interest": "1.5"}, "liquidity.min_open_interest"),
        ({"events.entry_rule": "sometimes"}, "events.entry_rule"),
        ({"fx.max_slippage_pips": "-1"}, "fx.max_slippage_pips"),
        ({"events.macro_kinds": "CPI"}, "events.macro_kinds"),
        ({"account.capital": "5"}, "account.capital"),
        ({"risk.max_leverage": "2"}, "risk.max_leverage"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key_and_nothing_is_written(
    client: Any, journals: tuple[Path, Path], edits: dict[str, str], named: str
) -> None:
    before = configs(journals[0].parent)
    res = client.post("/parameters/preview", json={"edits": edits})
    assert res.status_code == 422
    assert "Refused" in res.text and named in res.text
    res = client.post("/parameters/write", json={"edits": edits, "digest": "x"}, headers=AUTH)
    assert res.status_code == 422 and named in res.text
    assert configs(journals[0].parent) == before
    assert list(read_jsonl(journals[1] / "_web" / "config_edits.jsonl")) == []


def test_a_valid_edit_is_a_diff_then_a_new_file_journaled_and_loadable(
    client: Any, journals: tuple[Path, Path]
) -> None:
    config, logs = journals
    original = config.read_text()
    edits = {"risk.max_sector_pct": "35", "fx.max_slippage_pips": "0.8"}
    res = client.post("/parameters/preview", json={"edits": edits})
    assert res.status_code == 200
    assert "-max_sector_pct = 40.0" in res.text and "+max_sector_pct = 35.0" in res.text
    digest = res.text.split('data-digest="')[1].split('"')[0]
    unsigned = client.post("/parameters/write", json={"edits": edits, "digest": digest})
    assert unsigned.status_code == 401
    res = client.post("/parameters/write", json={"edits": edits, "digest": digest}, headers=AUTH)
    assert res.status_code == 200, res.text
    written = [p for p in configs(config.parent) if p != config]
    assert len(written) == 1 and str(written[0]) in res.text
    assert config.read_text() == original  # the running config is never touched
    cfg = load_config(written[0], strategy_config_models())
    assert cfg.risk.max_sector_pct == 35.0 and cfg.fx.max_slippage_pips == 0.8
    old, new = original.splitlines(), written[0].read_text().splitlines()
    assert len(old) == len(new)  # the file's own layout is kept: only the edited lines differ
    assert [b for a, b in zip(old, new, strict=True) if a != b] == [
        "max_sector_pct = 35.0",
        "max_slippage_pips = 0.8",
    ]
    (line,) = read_jsonl(logs / "_web" / "config_edits.jsonl")
    assert line["event"] == "CONFIG_EDIT" and line["written"] == str(written[0])
    assert {c["key"]: (c["old"], c["new"]) for c in line["changes"]} == {
        "risk.max_sector_pct": (40.0, 35.0),
        "fx.max_slippage_pips": (1.0, 0.8),
    }


def test_a_write_without_the_previewed_digest_is_refused(
    client: Any, journals: tuple[Path, Path]
) -> None:
    edits = {"risk.max_sector_pct": "35"}
    res = client.post("/parameters/write", json={"edits": edits, "digest": "0" * 64}, headers=AUTH)
    assert res.status_code == 422 and "preview it again" in res.text
    assert configs(journals[0].parent) == [journals[0]]


def test_an_edit_that_changes_nothing_writes_nothing(client: Any) -> None:
    res = client.post("/parameters/preview", json={"edits": {"risk.max_sector_pct": "40"}})
    assert res.status_code == 200 and "No value differs" in res.text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=12))
def test_parse_value_never_returns_a_value_of_another_type(text: str) -> None:
    for current in (10.0, 500, True, "avoid", ["CPI", "NFP"]):
        value, problem = parse_value("k", text, current)
        assert (value is None) != (problem is None) or isinstance(current, str)
        if problem is None:
            assert type(value) is type(current)
        else:
            assert problem.startswith("k: ")


def test_written_elsewhere_relative_paths_are_made_absolute(
    journals: tuple[Path, Path], tmp_path: Path
) -> None:
    """A read-only config folder (Docker): the new file goes to another folder and still loads."""
    config, logs = journals
    elsewhere = tmp_path / "edits"
    settings = replace(settings_for(config, logs), edits_dir=elsewhere)
    with client_for(settings) as c:
        edits = {"risk.max_sector_pct": "35"}
        res = c.post("/parameters/preview", json={"edits": edits})
        assert res.status_code == 200, res.text
        digest = res.text.split('data-digest="')[1].split('"')[0]
        res = c.post("/parameters/write", json={"edits": edits, "digest": digest}, headers=AUTH)
        assert res.status_code == 200, res.text
    (written,) = elsewhere.glob("*.toml")
    cfg = load_config(written, strategy_config_models())
    assert cfg.events.macro_file == config.parent / "events" / "macro.csv"
    (line,) = read_jsonl(logs / "_web" / "config_edits.jsonl")
    assert {c["key"] for c in line["changes"]} == {
        "risk.max_sector_pct",
        "events.macro_file",
        "events.earnings_file",
    }
