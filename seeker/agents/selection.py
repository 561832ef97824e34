"""Strategy selection: does today's regime allow a strategy (spec, "Sélection (règles v1)").

Each strategy owns its rule (``[strategies.<name>.regime]``): the labels it accepts on every
dimension of the regime (trend, ivr, structure, term, skew). A strategy fits when each of the
regime's labels is among those its rule lists. A strategy sold on the trend's side also names the
side it would take. Events (earnings / macro on the eve) are the Event Risk agent's veto, not a
regime rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import Field, field_validator

from seeker.agents.regime import LABELS, IvrLevel, Regime, Skew, Structure, Term, Trend
from seeker.agents.verdict import Verdict
from seeker.core.config_base import StrictModel

__all__ = ["RegimeRule", "SideOf", "select"]

SideOf = Callable[[Regime], str | None]
"""Which side a strategy sold on the trend takes in a regime (None: no side)."""

_NEED_ORDER = ("structure", "trend", "ivr", "term", "skew")
"""The order a rule's needs are written in a reason."""


class RegimeRule(StrictModel):
    """The regime labels one strategy accepts, every dimension written out (all labels = any)."""

    trend: list[Trend] = Field(min_length=1)
    ivr: list[IvrLevel] = Field(min_length=1)
    structure: list[Structure] = Field(min_length=1)
    term: list[Term] = Field(min_length=1)
    skew: list[Skew] = Field(min_length=1)

    @field_validator("trend", "ivr", "structure", "term", "skew")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"a label is listed twice in {value}")
        return value

    def accepted(self, dimension: str) -> list[str]:
        """Return the labels accepted on one dimension (a key of ``LABELS``)."""
        if dimension not in LABELS:
            raise ValueError(f"unknown label dimension {dimension!r} (known: {', '.join(LABELS)})")
        return list(getattr(self, dimension))

    def constrained(self) -> list[str]:
        """Return the dimensions this rule restricts (those not accepting every label)."""
        return [d for d in _NEED_ORDER if set(self.accepted(d)) != set(LABELS[d])]

    def failed(self, labels: dict[str, str]) -> list[str]:
        """Return the dimensions whose label this rule refuses, in reason order."""
        return [d for d in _NEED_ORDER if labels[d] not in self.accepted(d)]

    def describe(self) -> str:
        """Return what the rule needs in words, e.g. ``range + high IVR`` (``any regime``)."""
        return _rule_words(_rule_key(self))[0]

    def as_dict(self) -> dict[str, list[str]]:
        """Return the rule as a journal-ready mapping."""
        return {d: self.accepted(d) for d in LABELS}


def _in_order(dimension: str, accepted: list[str]) -> list[str]:
    return [label for label in LABELS[dimension] if label in accepted]


def _need_phrase(dimension: str, accepted: list[str]) -> str:
    """Return one dimension of a rule in words (``high IVR``, ``trend up or down``, ...)."""
    labels = _in_order(dimension, accepted)
    if dimension == "trend":
        return "no trend" if labels == ["none"] else "trend " + " or ".join(labels)
    if dimension == "structure":
        return " or ".join(x.replace("_", " ") for x in labels) + (
            " structure" if labels == ["neutral"] else ""
        )
    if dimension == "ivr":
        return " or ".join(labels) + " IVR"
    if dimension == "term":
        return " or ".join(labels) + " term"
    return " or ".join(labels) + " skew"


_RuleKey = tuple[tuple[str, ...], ...]
"""A rule's accepted labels, one tuple per dimension in ``LABELS`` order."""


def _rule_key(rule: RegimeRule) -> _RuleKey:
    """Return what a rule accepts as a hashable key (a rule is frozen; its lists are not)."""
    return tuple(tuple(getattr(rule, d)) for d in LABELS)


@lru_cache(maxsize=64)
def _rule_words(key: _RuleKey) -> tuple[str, dict[str, tuple[str, ...]]]:
    """Return (what the rule needs in words, its accepted labels by dimension) for a rule key."""
    accepted = dict(zip(LABELS, key, strict=True))
    parts = [
        _need_phrase(d, list(accepted[d]))
        for d in _NEED_ORDER
        if set(accepted[d]) != set(LABELS[d])
    ]
    return (" + ".join(parts) if parts else "any regime"), accepted


def select(
    strategy: str, rule: RegimeRule, regime: Regime, side_of: SideOf | None = None
) -> Verdict:
    """Return the regime agent's verdict on opening ``strategy`` (whose rule is ``rule``) now.

    Allowed when every label of the regime is accepted by the rule. The reason names what the rule
    needs and, when refused, the labels that failed. Details: the regime's ``as_dict()``,
    ``strategy``, ``rule``, ``failed`` (dimensions), and ``side`` when the strategy takes a side
    (``side_of`` given; None without one).
    """
    need, accepted = _rule_words(_rule_key(rule))  # rule.describe(), rule.accepted(d)
    labels = regime.labels()
    failed = [d for d in _NEED_ORDER if labels[d] not in accepted[d]]  # rule.failed(labels)
    details: dict[str, Any] = {
        **regime.as_dict(),
        "strategy": strategy,
        "rule": {d: list(accepted[d]) for d in LABELS},  # rule.as_dict(), fresh lists
        "failed": failed,
    }
    side = None
    if side_of is not None:
        side = side_of(regime)
        details["side"] = side
    if failed:
        got = ", ".join(regime.phrase(d) for d in failed)
        reason = f"{strategy}: {need} needed, regime is {got} ({regime.summary()})"
        return Verdict(agent="regime", allowed=False, reason=reason, details=details)
    chosen = f" → {side}" if side else ""
    reason = f"{strategy}: {need}{chosen} (regime: {regime.summary()})"
    return Verdict(agent="regime", allowed=True, reason=reason, details=details)
