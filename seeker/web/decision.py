"""``POST /decision``: which strategy now, and how confident — the v1 rules until the bandit lands.

The spec's bandit (roadmap v2) would choose from ``features``; until it exists the choice is the
v1 selection: each enabled strategy's own regime rule (``[strategies.<name>.regime]``) applied to
the latest regime Seeker journaled (a DECISION line's ``regime``, of the listing asked for or the
newest of any), through the same ``seeker.agents.selection.select`` as trading; the first enabled
strategy whose rule accepts it is chosen. No regime journaled → nothing chosen, and the answer
says why. The response says which policy chose.

The confidence is the dashboard's score (``seeker.agents.confidence``) of a position with the
payload's figures: ``dte`` (days), ``short_delta`` (|Δ| of the most exposed short leg),
``distance_atr`` (distance to the nearest short strike in ATR multiples), ``ivr_norm`` (IV rank
0..1), ``theta_captured`` (share of the entry credit earned, 0.5 = 50 %), ``event_buffer``
(sessions to the next event; a fraction counts as the whole sessions before it) and
``gamma_risk`` (the loss a one-ATR move costs through gamma, over the max loss). It is scored for
the chosen strategy (its premium stance and manage DTE), else for the first enabled one; a
strategy that states no manage DTE is scored with 0 there, which only moves the DTE badge (it
turns worrying at expiry), never the score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from seeker.agents.confidence import ConfidenceConfig, ConfidenceInputs, confidence
from seeker.agents.regime import LABELS, Regime
from seeker.agents.selection import select
from seeker.core.decision_lines import REGIMES_FILE
from seeker.core.journal import SYSTEM_FOLDER, strategy_folders
from seeker.ui.journal_view import parse_ts, read_raw, tail_lines
from seeker.web.strategy_facts import StrategyFacts

POLICY = "v1 selection rules (each strategy's regime rule); the contextual bandit is not used yet"
REGIME_TAIL_BYTES = 256 * 1024

Finite = Annotated[float, Field(allow_inf_nan=False)]

_REGIME_NUMBERS = (
    "close",
    "sma_fast",
    "sma_slow",
    "adx",
    "atr",
    "atr_pct",
    "iv",
    "iv_rank",
    "iv_percentile",
    "channel_high",
    "channel_low",
    "front_iv",
    "next_iv",
    "term_slope",
    "put25_iv",
    "call25_iv",
    "skew",
)
"""The measures a journaled regime carries (``Regime.as_dict``)."""


class DecisionRequest(BaseModel):
    """The spec's payload: every field required, nothing else accepted, every number finite."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    features: list[Finite]
    dte: Annotated[int, Field(ge=0, le=3650)]
    short_delta: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    distance_atr: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    ivr_norm: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    theta_captured: Finite
    event_buffer: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    gamma_risk: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


def regime_from_line(raw: Mapping[str, Any]) -> Regime | None:
    """Return the Regime a DECISION line journaled (``Regime.as_dict``), None if incomplete."""
    try:
        labels = raw["labels"]
        if any(labels[d] not in LABELS[d] for d in LABELS):
            return None
        numbers = {k: float(raw[k]) for k in _REGIME_NUMBERS}
        return Regime(
            listing_id=str(raw["listing_id"]),
            day=date.fromisoformat(str(raw["day"])),
            front_expiry=date.fromisoformat(str(raw["front_expiry"])),
            next_expiry=date.fromisoformat(str(raw["next_expiry"])),
            trend=labels["trend"],
            ivr=labels["ivr"],
            structure=labels["structure"],
            term=labels["term"],
            skew_label=labels["skew"],
            **numbers,
        )
    except (KeyError, TypeError, ValueError):
        return None


def latest_regime(root: Path, listing: str | None) -> tuple[Regime, dict[str, Any]] | None:
    """Return the newest journaled regime (of `listing` when given) and the line it came from."""
    best: tuple[Any, Regime, dict[str, Any]] | None = None

    def consider(line: Mapping[str, Any]) -> None:
        nonlocal best
        raw = line.get("regime")
        if line.get("event") not in ("DECISION", "REGIME") or not isinstance(raw, Mapping):
            return
        if listing is not None and raw.get("listing_id") != listing:
            return
        regime = regime_from_line(raw)
        ts = parse_ts(line.get("ts"))
        if regime is not None and (best is None or ts > best[0]):
            best = (ts, regime, dict(line))

    # compact journals write each regime once, in _seeker/regimes.jsonl; full ones in DECISIONs
    for line in tail_lines(root / SYSTEM_FOLDER / REGIMES_FILE, REGIME_TAIL_BYTES):
        consider(line)
    folders = [f for f in strategy_folders(root)]
    for folder in folders:
        for line in tail_lines(root / folder / "decisions.jsonl", REGIME_TAIL_BYTES):
            consider(line)
    if best is None and listing is not None:
        needle = f'"listing_id":"{listing}"'.encode()
        for _, line in read_raw(root / SYSTEM_FOLDER / REGIMES_FILE, needle):
            consider(line)
        for folder in folders:
            for _, line in read_raw(root / folder / "decisions.jsonl", needle):
                consider(line)
    return None if best is None else (best[1], best[2])


def score(
    req: DecisionRequest, cfg: ConfidenceConfig, sells_premium: bool, manage_dte: int
) -> dict[str, Any]:
    """Return the confidence score of the payload's figures, its components and badges."""
    inputs = ConfidenceInputs(
        dte=req.dte,
        short_deltas=(req.short_delta,),
        spot=req.distance_atr,
        short_strikes=(0.0,),
        atr=1.0,
        iv_rank=100.0 * req.ivr_norm,
        aligned_with_high_ivr=sells_premium,
        pnl_unit=req.theta_captured,
        credit=1.0,
        position_gamma=-2.0 * req.gamma_risk,
        multiplier=1,
        max_loss=1.0,
        next_event=("event", math.floor(req.event_buffer)),
        manage_dte=manage_dte,
    )
    return confidence(inputs, cfg).as_dict()


def decide(
    req: DecisionRequest,
    enabled: Sequence[str],
    facts: Mapping[str, StrategyFacts],
    conf_cfg: ConfidenceConfig,
    root: Path,
    listing: str | None,
) -> dict[str, Any]:
    """Return the decision: chosen strategy (or None), the policy, the regime, every verdict."""
    actions = [n for n in enabled if n in facts]
    found = latest_regime(root, listing)
    verdicts: list[dict[str, Any]] = []
    chosen: str | None = None
    regime_out: dict[str, Any] | None = None
    if found is None:
        where = f" for {listing}" if listing else ""
        reason = (
            f"no regime known{where}: no regime journaled under {root}/ "
            "(run `seeker run` first); nothing chosen"
        )
    else:
        regime, line = found
        regime_out = {
            "listing_id": regime.listing_id,
            "day": regime.day.isoformat(),
            "labels": regime.labels(),
            "summary": regime.summary(),
            "source": {
                key: line[key]
                for key in ("event", "ref", "decision_id", "strategy", "ts")
                if line.get(key) is not None
            },
        }
        for name in actions:
            f = facts[name]
            v = select(name, f.rule, regime, f.side_of)
            verdicts.append(
                {"strategy": name, "allowed": v.allowed, "reason": v.reason}
                | ({"side": v.details["side"]} if v.details.get("side") else {})
            )
            if v.allowed and chosen is None:
                chosen = name
        reason = (
            f"{chosen}: the first of strategies.enabled whose regime rule accepts "
            f"{regime.listing_id}'s regime ({regime.summary()})"
            if chosen
            else f"no enabled strategy's regime rule accepts {regime.listing_id}'s regime "
            f"({regime.summary()}); nothing chosen"
        )
    scored_as = chosen or (actions[0] if actions else None)
    f = facts.get(scored_as) if scored_as else None
    manage = f.manage_dte if f is not None and f.manage_dte is not None else 0
    conf = score(req, conf_cfg, f.sells_premium if f else True, manage)
    conf["scored_as"] = scored_as
    return {
        "chosen": chosen,
        "features": list(req.features),
        "actions": actions,
        "confidence": conf,
        "policy": POLICY,
        "reason": reason,
        "regime": regime_out,
        "verdicts": verdicts,
    }
