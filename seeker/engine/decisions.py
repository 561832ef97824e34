"""DECISION lines: one per setup considered, queued during a scan and written before any order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from seeker.agents.regime import Regime
from seeker.agents.verdict import BlockedBy, Verdict
from seeker.core.decision_lines import REGIME_AGENT, RULE_DETAILS, STRATEGY_EVENT
from seeker.core.models import Chain, Listing
from seeker.core.structures import Setup
from seeker.engine.context import StrategyContext
from seeker.engine.ids import IdSequence


class DecisionLog:
    """Queue DECISION lines of a scan and write them together (compact or full shape)."""

    def __init__(self, ctx: StrategyContext, ids: IdSequence) -> None:
        self.ctx = ctx
        self.ids = ids
        self._pending: list[dict[str, Any]] = []
        self.compact = ctx.settings.runtime.decision_lines == "compact"

    def announce(self) -> None:
        """Write the STRATEGY line the compact DECISION lines of this run refer to."""
        if self.compact:
            ctx = self.ctx
            ctx.journal.write(
                STRATEGY_EVENT, strategy=ctx.name, regime_rule=ctx.config.regime.as_dict()
            )

    def decide(
        self,
        now: datetime,
        listing: Listing,
        setup: Setup | None,
        verdicts: Sequence[Verdict],
        outcome: str,
        blocked_by: BlockedBy | str | None,
        reason: str,
        chain: Chain | None = None,
        position_id: str | None = None,
        regime: Regime | None = None,
    ) -> None:
        """Queue one DECISION line (written with the scan's other lines, before any order)."""
        ctx = self.ctx
        features: dict[str, Any] = {}
        if setup is not None:
            features.update(setup.features)
            features.update(spot=round(setup.spot, 4), dte=setup.dte)
        elif chain is not None:
            features.update(spot=round(chain.underlying.mid, 4), chain_volume=chain.chain_volume)
        ref = ctx.services.regime_reference(regime) if self.compact and regime is not None else None
        # the regime is journaled once, not again in its verdict
        journaled = [journaled_verdict(v, regime is not None, ref is not None) for v in verdicts]
        refusing = next((v for v in journaled if not v["allowed"]), None)
        binding = None
        if refusing is not None:
            binding = refusing["details"].get("binding") or refusing["agent"]
        shape: dict[str, Any]
        if ref is not None:
            shape = {"regime_ref": ref}
        else:
            shape = {"regime": regime.as_dict() if regime is not None else None}
        self._pending.append(
            ctx.journal.record(
                "DECISION",
                decision_id=self.ids.decision_id(now),
                strategy=ctx.name,
                underlying=listing.listing_id,
                outcome=outcome,
                reason=reason,
                blocked_by=blocked_by,
                binding=binding,
                position_id=position_id,
                **shape,
                setup=setup.describe() if setup is not None else None,
                features=features,
                verdicts=journaled,
                market_data=ctx.services.broker.market_data_type(),
                shadow=ctx.shadow,
            )
        )

    def flush(self) -> None:
        """Write the DECISION lines of this scan (one fsync for all of them)."""
        if self._pending:
            lines, self._pending = self._pending, []
            self.ctx.journal.write_many(lines)


REGIME_DETAILS = ("strategy", "rule", "failed", "side")
"""What a regime verdict's details keep when the DECISION line carries the regime itself."""

REGIME_DETAILS_COMPACT = tuple(k for k in REGIME_DETAILS if k not in RULE_DETAILS)
"""What they keep in a compact line (the strategy's rule is on its STRATEGY line)."""


def journaled_verdict(v: Verdict, strip_regime: bool, compact: bool) -> dict[str, Any]:
    """Return a verdict as a DECISION line carries it.

    With `strip_regime` (the line carries the regime), a regime verdict keeps only its rule's
    details (``REGIME_DETAILS``; ``REGIME_DETAILS_COMPACT`` when `compact`), not the measures.
    """
    if not strip_regime or v.agent != REGIME_AGENT:
        return v.as_dict()
    details = v.details
    kept = REGIME_DETAILS_COMPACT if compact else REGIME_DETAILS
    return {
        "agent": v.agent,
        "allowed": v.allowed,
        "reason": v.reason,
        "score": v.score,
        "details": {k: details[k] for k in kept if k in details},
    }
