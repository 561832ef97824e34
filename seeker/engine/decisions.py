"""DECISION lines: one per setup considered, queued during a scan and written before any order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from seeker.agents.regime import Regime
from seeker.agents.verdict import BlockedBy, Verdict
from seeker.core.decision_lines import REGIME_AGENT, STRATEGY_EVENT, compact_regime_verdict
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
        if regime is not None:  # the regime is journaled once, not again in its verdict
            verdicts = [without_regime(v) for v in verdicts]
        refusing = next((v for v in verdicts if not v.allowed), None)
        binding = None
        if refusing is not None:
            binding = refusing.details.get("binding") or refusing.agent
        journaled = [v.as_dict() for v in verdicts]
        shape: dict[str, Any]
        ref = ctx.services.regime_reference(regime) if self.compact and regime is not None else None
        if ref is not None:
            journaled = [
                compact_regime_verdict(v) if v["agent"] == REGIME_AGENT else v for v in journaled
            ]
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


def without_regime(v: Verdict) -> Verdict:
    """Return the selection verdict without the regime measures the DECISION line carries."""
    if v.agent != "regime":
        return v
    keep = {k: v.details[k] for k in ("strategy", "rule", "failed", "side") if k in v.details}
    return Verdict(v.agent, v.allowed, v.reason, v.score, keep)
