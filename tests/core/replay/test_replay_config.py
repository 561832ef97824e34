"""The replay's config: config/replay-spx.toml, its [replay] table, index listings, and what a
config must write out (every trading value, a listing per universe entry, a fee per currency)."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import ConfigError, validate_config
from seeker.config.root import SeekerConfig
from seeker.core.universe import ListingConfig, listing_from_config
from tests.support import ROOT, seeker, strategy_config_models, write_config

from .shared_data import shared_data

REPLAY_SPX = ROOT / "config" / "replay-spx.toml"
TRADING_KEYS = ("snapshot_time", "seed", "fill_probability_at_mid", "exchange_fees", "fx")


def replay_spx(data: Path | None = None) -> dict[str, Any]:
    """Return config/replay-spx.toml as a dict, its history files pointed at the shared data."""
    with REPLAY_SPX.open("rb") as fh:
        raw = tomllib.load(fh)
    base = (data or shared_data()) / "index-history"
    raw["replay"]["history"]["SPX"] = {
        "bars_file": str(base / "spx_daily.csv"),
        "iv_file": str(base / "vix_daily.csv"),
        "iv_3m_file": str(base / "vix3m_daily.csv"),
    }
    return raw


def _validate(raw: dict[str, Any], base: Path = ROOT / "config") -> SeekerConfig:
    return validate_config(raw, strategy_config_models(), base)


def _problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        _validate(raw)
    return err.value.problems


def test_the_shipped_replay_config_is_valid_and_trades_spx_as_an_index() -> None:
    cfg = _validate(replay_spx())
    assert cfg.broker.kind == "replay" and cfg.replay is not None
    listings = cfg.listings()
    assert set(listings) == {"SPX", "SPXW"}
    for lst in listings.values():
        assert (lst.kind, lst.style, lst.settlement, lst.multiplier) == (
            "index",
            "european",
            "cash",
            100,
        )
        assert lst.european and lst.strike_increment == 5.0 and lst.calendar == "XNYS"
    assert {k: v.root for k, v in cfg.replay.listings.items()} == {"SPX": "SPX", "SPXW": "SPXW"}
    assert cfg.replay.exchange_fees == {"USD": 0.66}
    # the per-trade cap holds a 5-point vertical with its fees (the file's arithmetic)
    per_contract = cfg.commissions["USD"].per_contract + cfg.replay.exchange_fees["USD"]
    assert 5.0 * 100 + 2 * 2 * per_contract <= cfg.caps().per_trade
    assert cfg.caps().per_trade == pytest.approx(5000.0)
    # the 2019 calendar lists every watched kind past the window's longest trades (Oct 2019)
    calendar = cfg.events.load_calendar()
    for kind in cfg.events.macro_kinds:
        assert max(e.day for e in calendar.events if e.kind == kind).isoformat() > "2019-11-01"


@pytest.mark.parametrize("key", TRADING_KEYS)
def test_every_trading_value_of_the_replay_table_is_required(key: str) -> None:
    raw = replay_spx()
    del raw["replay"][key]
    assert f"replay.{key}: required key is missing (no default for trading values)" in _problems(
        raw
    )


def test_a_replay_config_names_a_listing_per_universe_entry_and_a_fee_per_currency() -> None:
    raw = replay_spx()
    del raw["replay"]["listings"]["SPXW"]
    raw["replay"]["listings"]["QQQ"] = {"underlying": "SPX", "root": "SPX"}
    raw["replay"]["exchange_fees"] = {"CAD": 0.5}
    problems = _problems(raw)
    assert "replay.listings.SPXW: required key is missing (the listing is in the universe)" in (
        problems
    )
    assert "replay.listings.QQQ: unknown listing (not in the universe)" in problems
    assert "replay.exchange_fees.USD: required key is missing (a listing uses USD)" in problems
    raw = replay_spx()
    raw["replay"]["listings"]["SPX"]["underlying"] = "NDX"
    assert any("has no [replay.history.NDX] table" in p for p in _problems(raw))
    raw = replay_spx()
    del raw["replay"]
    assert 'replay: required key is missing (broker.kind = "replay")' in _problems(raw)


def test_bad_replay_values_name_their_key() -> None:
    raw = replay_spx()
    raw["replay"]["fx"] = {"pair": "USD.CAD", "bid": 1.35, "ask": 1.34}
    raw["replay"]["fill_probability_at_mid"] = 1.5
    raw["replay"]["history"]["SPX"]["bars_file"] = "/nonexistent/spx.csv"
    problems = "\n".join(_problems(raw))
    assert "replay.fx: bid 1.35 above ask 1.34" in problems
    assert "replay.fill_probability_at_mid" in problems
    assert "replay.history.SPX.bars_file" in problems and "does not exist" in problems


def test_an_index_listing_writes_its_terms_out_and_equities_default_to_theirs() -> None:
    base = {
        "symbol": "SPX",
        "exchange": "CBOE",
        "currency": "USD",
        "sector": "broad_market",
        "dividend_yield": 0.019,
        "strike_increment": 5.0,
    }
    with pytest.raises(ValueError, match="an index listing needs style, settlement, multiplier"):
        ListingConfig.model_validate({**base, "kind": "index"})
    etf = listing_from_config("IWM", ListingConfig.model_validate({**base, "kind": "etf"}))
    assert (etf.style, etf.settlement, etf.multiplier, etf.european) == (
        "american",
        "physical",
        100,
        False,
    )
    index = ListingConfig.model_validate(
        {**base, "kind": "index", "style": "european", "settlement": "cash", "multiplier": 100}
    )
    assert listing_from_config("SPX", index).european


def test_seeker_run_refuses_a_replay_config(tmp_path: Path) -> None:
    raw = replay_spx()
    path = write_config(tmp_path, copy.deepcopy(raw), "replay.toml")
    (tmp_path / "events" / "macro-2019.csv").write_bytes(
        (ROOT / "config" / "events" / "macro-2019.csv").read_bytes()
    )
    result = seeker("run", "--config", str(path), "--days", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "use `seeker replay`" in result.stderr
