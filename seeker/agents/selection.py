"""Strategy selection: which strategies the regime allows (spec, "Sélection (règles v1)").

The spec's rules: Range + high IVR → Iron Condor or Iron Fly; Trend + high IVR → Credit Spread on
the trend's side; low IVR → Diagonal / Calendar; marked skew → Broken-Wing Butterfly. The
``[selection]`` table writes each rule out as the labels the strategy accepts on every dimension of
the regime (trend, ivr, structure, term, skew); a strategy fits when each of the regime's labels is
among those its rule lists. Events (earnings / macro on the eve) are the Event Risk agent's veto,
not a regime rule.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from seeker.agents.regime import LABELS, IvrLevel, Regime, Skew, Structure, Term, Trend
from seeker.agents.verdict import Verdict
from seeker.core.config_base import StrictModel

__all__ = [
    "STRATEGIES",
    "CreditSpreadRule",
    "RegimeRule",
    "SelectionConfig",
    "credit_spread_side",
    "fitting_strategies",
    "select",
]

StrategyName = Literal[
    "iron_condor", "credit_spread", "diagonal", "iron_fly", "broken_wing_butterfly"
]
STRATEGIES: tuple[str, ...] = get_args(StrategyName)
"""The five strategies, in report order."""

CreditSpreadSide = Literal["bull_put", "bear_call"]

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
        parts = [_need_phrase(d, self.accepted(d)) for d in self.constrained()]
        return " + ".join(parts) if parts else "any regime"

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


class CreditSpreadRule(RegimeRule):
    """The credit spread's rule: it is sold on the trend's side, so it needs a trend."""

    @field_validator("trend")
    @classmethod
    def _needs_a_side(cls, value: list[str]) -> list[str]:
        if "none" in value:
            raise ValueError(
                'may list only "up" and "down": a credit spread is sold on the trend\'s side '
                "(bull put when up, bear call when down)"
            )
        return value


class SelectionConfig(StrictModel):
    """The ``[selection]`` table: one rule per strategy, every strategy written out."""

    iron_condor: RegimeRule
    credit_spread: CreditSpreadRule
    diagonal: RegimeRule
    iron_fly: RegimeRule
    broken_wing_butterfly: RegimeRule

    def rule(self, strategy: str) -> RegimeRule:
        """Return the rule of one strategy; ValueError naming the known ones if unknown."""
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
        rule: RegimeRule = getattr(self, strategy)
        return rule


def credit_spread_side(regime: Regime) -> CreditSpreadSide | None:
    """Return the credit spread on the trend's side: bull_put when up, bear_call when down."""
    if regime.trend == "up":
        return "bull_put"
    if regime.trend == "down":
        return "bear_call"
    return None


def select(strategy: str, regime: Regime, cfg: SelectionConfig) -> Verdict:
    """Return the regime agent's verdict on opening ``strategy`` in ``regime``.

    Allowed when every label of the regime is accepted by the strategy's rule. The reason names
    what the rule needs and, when refused, the labels that failed. Details: the regime's
    ``as_dict()``, ``strategy``, ``rule``, ``failed`` (dimensions), and for credit_spread ``side``
    (bull_put, bear_call, or None without a trend).
    """
    rule = cfg.rule(strategy)
    failed = rule.failed(regime.labels())
    need = rule.describe()
    details: dict[str, Any] = {
        **regime.as_dict(),
        "strategy": strategy,
        "rule": rule.as_dict(),
        "failed": failed,
    }
    side = None
    if strategy == "credit_spread":
        side = credit_spread_side(regime)
        details["side"] = side
    if failed:
        got = ", ".join(regime.phrase(d) for d in failed)
        reason = f"{strategy}: {need} needed, regime is {got} ({regime.summary()})"
        return Verdict(agent="regime", allowed=False, reason=reason, details=details)
    chosen = f" → {side}" if side else ""
    reason = f"{strategy}: {need}{chosen} (regime: {regime.summary()})"
    return Verdict(agent="regime", allowed=True, reason=reason, details=details)


def fitting_strategies(regime: Regime, cfg: SelectionConfig) -> list[str]:
    """Return the strategies whose rule accepts ``regime``, in ``STRATEGIES`` order."""
    labels = regime.labels()
    return [s for s in STRATEGIES if not cfg.rule(s).failed(labels)]
