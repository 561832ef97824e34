"""The spec's four endpoints ("API (Seeker)"): /health, /decision, /risk/evaluate, /history.

Strict: a missing or extra field, a wrong type, a wrong ``features`` length or a NaN is a 422
naming the field, and nothing is journaled. ``/decision`` writes one line per answer to
``<data dir>/decisions.jsonl`` (fsynced before the answer) and needs the token, as it changes
state; ``/risk/evaluate`` only reads.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError

from seeker.core.clock import WallClock
from seeker.core.journal import JsonlWriter, read_jsonl
from seeker.web.auth import TokenRequired, settings_of
from seeker.web.decision import DecisionRequest, decide
from seeker.web.risk_eval import Inconsistent, RiskAnswer, RiskRequest, evaluate

router = APIRouter(tags=["spec API"])

DECISIONS_FILE = "decisions.jsonl"
HISTORY_MAX = 1000


def _invalid(field: str, message: str, value: Any) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Return ``{status, actions, feature_dim}``: the strategies Seeker may choose from."""
    settings = settings_of(request)
    cfg = settings.config
    facts = request.app.state.facts
    return {
        "status": "ok",
        "actions": [n for n in cfg.strategies.enabled if n in facts],
        "feature_dim": cfg.bandit.feature_dim,
    }


@router.post("/decision", dependencies=[TokenRequired])
def decision(
    payload: DecisionRequest,
    request: Request,
    listing: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Choose on this listing's latest journaled regime (default: the newest "
            "regime of any listing).",
        ),
    ] = None,
) -> dict[str, Any]:
    """Choose a strategy (v1 selection rules until the bandit lands) and score the confidence."""
    settings = settings_of(request)
    cfg = settings.config
    dim = cfg.bandit.feature_dim
    if len(payload.features) != dim:
        raise _invalid(
            "features",
            f"features must have bandit.feature_dim = {dim} values, got {len(payload.features)}",
            payload.features,
        )
    answer = decide(
        payload,
        cfg.strategies.enabled,
        request.app.state.facts,
        cfg.confidence,
        settings.log_root,
        listing,
    )
    writer: JsonlWriter = request.app.state.decisions_writer
    line = {
        "event": "DECISION",
        "ts": WallClock().now(),
        "source": "api",
        "listing": listing,
        "request": payload.model_dump(),
        **answer,
    }
    writer.write([line])
    return answer


@router.post("/risk/evaluate")
def risk_evaluate(payload: RiskRequest, request: Request) -> RiskAnswer:
    """Return whether the Risk Guard would reserve the proposed risk, and why (same caps)."""
    cfg = settings_of(request).config
    try:
        return evaluate(payload, cfg.account.capital, cfg.caps(), cfg.risk.max_portfolio_pct)
    except Inconsistent as exc:
        raise _invalid(exc.field, str(exc), getattr(payload, exc.field)) from None


@router.get("/history")
def history(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=HISTORY_MAX, description="Most items returned.")] = 50,
) -> dict[str, list[dict[str, Any]]]:
    """Return the journaled ``/decision`` answers, newest first (at most `limit`)."""
    path = settings_of(request).data_dir / DECISIONS_FILE
    items = list(read_jsonl(path))
    items.reverse()
    return {"items": items[:limit]}
