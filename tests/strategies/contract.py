"""The contract every strategy package must keep, as a test base its own tests parametrise.

A strategy's test module subclasses ``StrategyContract`` and names its strategy (and, for a
strategy that is not in the shipped config, its table); every test here then runs for it, the way
exchange_calendars' ``ExchangeCalendarTestBase`` runs for each calendar. Golden files pin what the
scanner proposes on the simulated market: ``SEEKER_UPDATE_GOLDEN=1 pytest tests/strategies``
rewrites them after an intended change (review the diff).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from seeker.config.loading import ConfigError, validate_config
from seeker.config.strategy import StrategyConfig
from seeker.core.journal import read_events
from seeker.engine.cycle import OptionStrategy
from seeker.engine.registry import config_models, registered
from seeker.engine.runner import run_strategies
from seeker.engine.wiring import build_sim_services
from seeker.reports.audit import cap_violations
from seeker.strategies import load
from tests.support import ROOT, shipped

GOLDEN_LISTINGS = ("XLF", "EEM", "IWM", "SLV")
"""The listings whose scans the golden files pin (liquid, several strike increments)."""
GOLDEN_SESSIONS = 3
"""How many sessions (at 10:30 New York) the golden scans cover."""
RUN_LISTINGS = ["IWM", "EEM", "XLF", "XLE", "SLV", "BAC", "TD", "TD.TO"]
"""The underlyings of the contract's short simulated run."""


class StrategyContract:
    """Tests every strategy package must pass."""

    name: ClassVar[str]
    """The strategy's registered name."""
    run_sessions: ClassVar[int] = 20
    """Simulated sessions of the contract's short run."""
    golden_listings: ClassVar[tuple[str, ...]] = GOLDEN_LISTINGS
    """The listings the golden scans cover."""

    # -- what a subclass may override ------------------------------------------------------------
    def table(self) -> dict[str, Any]:
        """Return the strategy's config table (default: the shipped config's)."""
        return copy.deepcopy(shipped()["strategies"][self.name])

    def golden_folder(self) -> Path:
        """Return the folder of the strategy's golden files (next to its test module)."""
        return Path(inspect.getfile(type(self))).parent / "golden"

    # -- fixtures ----------------------------------------------------------------------------------
    @pytest.fixture
    def strategy_class(self) -> type[OptionStrategy[Any]]:
        cls = load()[self.name]
        assert issubclass(cls, OptionStrategy)
        return cls

    def config_data(self, underlyings: list[str] | None = None) -> dict[str, Any]:
        """Return the shipped config with only this strategy enabled, on its table."""
        data = shipped()
        table = self.table()
        if underlyings is not None:
            table["underlyings"] = underlyings
        data["strategies"] = {"enabled": [self.name], self.name: table}
        return data

    def validate(self, data: Mapping[str, Any]) -> Any:
        return validate_config(data, config_models(registered()), ROOT / "config")

    def problems(self, data: Mapping[str, Any]) -> list[str]:
        with pytest.raises(ConfigError) as err:
            self.validate(data)
        return err.value.problems

    # -- the contract --------------------------------------------------------------------------
    def test_is_registered_with_its_own_config_model_and_id_prefix(
        self, strategy_class: type[OptionStrategy[Any]]
    ) -> None:
        assert strategy_class.name == self.name
        assert issubclass(strategy_class.config_model, StrategyConfig)
        assert strategy_class.description.strip()
        prefix = strategy_class.id_prefix
        assert prefix.isidentifier() and prefix.islower() and len(prefix) <= 4
        others = {
            cls.id_prefix
            for other, cls in registered().items()
            if other != self.name and issubclass(cls, OptionStrategy)
        }
        assert prefix not in others, "position ids would collide with another strategy's"

    def test_its_table_validates_with_its_own_regime_rule(self) -> None:
        cfg = self.validate(self.config_data())
        table = cfg.strategies.table(self.name)
        assert table is not None and table.regime is not None
        assert table.regime.as_dict()  # every dimension written out

    def test_every_trading_value_of_its_table_is_required(
        self, strategy_class: type[OptionStrategy[Any]]
    ) -> None:
        fields = strategy_class.config_model.model_fields
        required = [name for name, field in fields.items() if field.is_required()]
        assert "regime" in required and "underlyings" in required
        for key in required:
            data = self.config_data()
            del data["strategies"][self.name][key]
            assert (
                f"strategies.{self.name}.{key}: required key is missing "
                "(no default for trading values)"
            ) in self.problems(data)

    def test_an_unknown_key_is_refused_by_name(self) -> None:
        data = self.config_data()
        data["strategies"][self.name]["take_profit_pctt"] = 50.0
        assert f"strategies.{self.name}.take_profit_pctt: unknown key" in self.problems(data)

    def test_the_rule_book_names_every_exit_rule_in_order(
        self, strategy_class: type[OptionStrategy[Any]]
    ) -> None:
        rules = _exit_rules(strategy_class)
        names = [rule.__name__ for rule in rules]
        assert names, f"{self.name} declares no exit rule"
        assert len(set(names)) == len(names), "an exit rule is listed twice"
        book = _rule_book(strategy_class)
        positions = [_line_start(book, name) for name in names]
        missing = [n for n, p in zip(names, positions, strict=True) if p < 0]
        assert not missing, f"rules missing from the rule book (risk.py docstring): {missing}"
        assert positions == sorted(positions), "the rule book lists the rules in another order"

    def test_golden_scans_on_the_simulated_market(
        self, strategy_class: type[OptionStrategy[Any]], tmp_path: Path
    ) -> None:
        got = list(_golden_scans(self, strategy_class, tmp_path))
        path = self.golden_folder() / "scans.json"
        text = json.dumps(got, indent=1, sort_keys=True) + "\n"
        if os.environ.get("SEEKER_UPDATE_GOLDEN") == "1" or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if os.environ.get("SEEKER_UPDATE_GOLDEN") != "1":
                pytest.fail(f"{path} did not exist: written now; review it and commit it")
        assert json.loads(path.read_text()) == json.loads(text)

    def test_a_short_simulated_run_journals_every_decision_and_keeps_the_caps(
        self, tmp_path: Path
    ) -> None:
        cfg = self.validate(self.config_data(RUN_LISTINGS))
        logs = tmp_path / "logs"
        services = build_sim_services(cfg, logs, days=self.run_sessions, emit=lambda _m: None)
        try:
            result = run_strategies(services, [self.name], tick_seconds=0.05)
        finally:
            services.broker.close()
            services.close_journals()
        assert result.stopped_cleanly and result.states == {self.name: "stopped"}
        folder = logs / self.name
        decisions = read_events(folder, ["DECISION"])
        assert decisions, "no DECISION line in a run"
        for d in decisions:
            assert d["strategy"] == self.name and d["reason"]
            assert (d["outcome"] == "order") == (d["blocked_by"] is None)
        for order in read_events(folder, ["ORDER"]):
            assert order["order_ref"] == (
                f"seeker:{self.name}:{order['position_id']}:{order['intent']}"
            )
        assert cap_violations(logs, cfg.caps()) == []


def _risk_module(cls: type[OptionStrategy[Any]]) -> ModuleType:
    """Return the ``risk`` module of a strategy's package (its exit rules and rule book)."""
    package = cls.__module__.rpartition(".")[0]
    return importlib.import_module(f"{package}.risk")


def _exit_rules(cls: type[OptionStrategy[Any]]) -> Sequence[Callable[..., object]]:
    """Return the strategy's ordered exit rules (its ``EXITS``, or its risk module's)."""
    rules = getattr(cls, "EXITS", None)
    if rules is None:
        rules = getattr(_risk_module(cls), "EXITS", ())
    return tuple(rules)


def _line_start(book: str, name: str) -> int:
    """Return where a line of the rule book starts with `name` (−1 if none does)."""
    match = re.search(rf"(?m)^\s*{re.escape(name)}\b", book)
    return match.start() if match else -1


def _rule_book(cls: type[OptionStrategy[Any]]) -> str:
    """Return the docstring where a strategy writes its management rules down, in order."""
    return inspect.getdoc(_risk_module(cls)) or ""


def _golden_scans(
    contract: StrategyContract, cls: type[OptionStrategy[Any]], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """Yield what the strategy proposes per listing and session of the simulated market."""
    cfg = contract.validate(contract.config_data(list(contract.golden_listings)))
    services = build_sim_services(cfg, tmp_path / "logs", days=GOLDEN_SESSIONS + 1, emit=print)
    try:
        table = cfg.strategies.table(contract.name)
        strategy = cls(services, table)
        clock = services.clock
        for _ in range(GOLDEN_SESSIONS):
            day_open = services.calendars.next_union_open(clock.now())
            assert clock.sleep_until(day_open + timedelta(hours=1))
            now = clock.now()
            for lid in contract.golden_listings:
                listing = services.listings[lid]
                row: dict[str, Any] = {"at": now.isoformat(), "listing": lid}
                try:
                    regime = services.regime(lid)
                    fit = strategy.regime_fit(regime)
                    chain = strategy.pipeline.chain(listing, now.date())
                    setups, note = strategy.scan(listing, chain, now.date(), regime, fit)
                except Exception as exc:  # a refusal is part of what the file pins
                    row["refused"] = f"{type(exc).__name__}: {exc}"
                    yield row
                    continue
                row["regime_fits"] = fit.allowed
                row["note"] = note if not setups else None
                row["setups"] = [
                    {
                        "label": s.label,
                        "mid": round(s.mid, 4),
                        "natural": round(s.natural, 4),
                        "worst_loss": round(s.worst_loss(s.mid), 4),
                        "bound": round(strategy.entry_bound(s), 4),
                    }
                    for s in setups
                ]
                yield row
            clock.sleep_until(now + timedelta(hours=6))
    finally:
        services.broker.close()
        services.close_journals()
