"""The pre-send checklist: an order that fails it is not sent, and a RISK line says why."""

from __future__ import annotations

from seeker.core.execution import OrderPlan
from seeker.engine.context import StrategyContext


def checked(
    ctx: StrategyContext,
    plan: OrderPlan,
    natural: float,
    in_rth: bool,
    risk_reserved: bool,
    what: str,
) -> bool:
    """Run the pre-send checklist; journal why the order is not sent when it fails."""
    problems = ctx.executor.checklist(
        plan, natural=natural, in_rth=in_rth, risk_reserved=risk_reserved
    )
    if problems:
        ctx.risk_line(plan.position_id, "checklist", f"{what} not sent: " + "; ".join(problems))
    return not problems
