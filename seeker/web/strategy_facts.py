"""What the web needs to know of each configured strategy, read from its own class and table.

A strategy's class states its rules (``manage_dte``, ``sells_premium``, ``entry_side``) as
members that read only its config table; the web reads them on a bare instance that holds the
table and nothing else (no services: it never trades). A rule that needs more than the table is
reported unknown, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from seeker.agents.regime import Regime
from seeker.agents.selection import RegimeRule, SideOf
from seeker.config.root import SeekerConfig
from seeker.config.strategy import StrategyConfig
from seeker.engine.lifecycle import Strategy


@dataclass(frozen=True)
class StrategyFacts:
    """One configured strategy: its regime rule, management DTE, side and premium stance."""

    name: str
    rule: RegimeRule
    manage_dte: int | None
    sells_premium: bool
    side_of: SideOf | None


def _bare(cls: type[Strategy], table: StrategyConfig) -> Strategy:
    """Return an instance of `cls` holding only its config table (never started)."""
    inst = object.__new__(cls)
    inst.config = table
    return inst


def _manage_dte(inst: Strategy) -> int | None:
    try:
        value = getattr(inst, "manage_dte", None)
    except AttributeError:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _side_reader(cls: type[Strategy], inst: Strategy) -> SideOf | None:
    if not getattr(cls, "takes_side", False):
        return None
    entry_side = getattr(inst, "entry_side", None)
    if entry_side is None:
        return None

    def side_of(regime: Regime) -> str | None:
        try:
            side = entry_side(regime)
        except AttributeError:
            return None
        return side if isinstance(side, str) else None

    return side_of


def strategy_facts(
    cfg: SeekerConfig, registry: Mapping[str, type[Strategy]]
) -> dict[str, StrategyFacts]:
    """Return the facts of every strategy that has a table in the config, by name."""
    out: dict[str, StrategyFacts] = {}
    for name, cls in sorted(registry.items()):
        table = cfg.strategies.table(name)
        if table is None:
            continue
        inst = _bare(cls, table)
        out[name] = StrategyFacts(
            name=name,
            rule=table.regime,
            manage_dte=_manage_dte(inst),
            sells_premium=bool(getattr(cls, "sells_premium", True)),
            side_of=_side_reader(cls, inst),
        )
    return out
