"""The spec's four endpoints, exactly: /health, /decision, /risk/evaluate, /history."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seeker.agents.confidence import ConfidenceInputs, confidence
from seeker.agents.risk_guard import Caps
from seeker.agents.selection import select
from seeker.core.journal import read_jsonl
from seeker.web.decision import latest_regime
from seeker.web.risk_eval import RiskRequest, evaluate
from tests.web.support import AUTH, client_for, settings_for, without_token


@pytest.fixture
def client(journals: tuple[Path, Path]) -> Any:
    with client_for(settings_for(*journals)) as c:
        yield c


def payload(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "features": [0.1 * i for i in range(8)],
        "dte": 38,
        "short_delta": 0.14,
        "distance_atr": 1.8,
        "ivr_norm": 0.62,
        "theta_captured": 0.2,
        "event_buffer": 6.0,
        "gamma_risk": 0.05,
    }
    body.update(over)
    return body


def decisions_file(journals: tuple[Path, Path]) -> Path:
    return journals[1] / "_web" / "decisions.jsonl"


def journaled(journals: tuple[Path, Path]) -> list[dict[str, Any]]:
    return list(read_jsonl(decisions_file(journals)))


def test_health_names_the_enabled_strategies_and_the_feature_dim(client: Any) -> None:
    res = client.get("/health")
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"status", "actions", "feature_dim"}
    assert body["status"] == "ok"
    assert body["actions"] == [
        "iron_condor",
        "credit_spread",
        "diagonal",
        "iron_fly",
        "broken_wing_butterfly",
    ]
    assert body["feature_dim"] == 8


def test_a_decision_uses_the_v1_rules_on_the_journaled_regime_and_is_journaled(
    client: Any, journals: tuple[Path, Path]
) -> None:
    res = client.post("/decision", json=payload(), headers=AUTH)
    assert res.status_code == 200, res.text
    body = res.json()
    assert {"chosen", "features", "actions", "confidence"} <= set(body)
    assert body["features"] == payload()["features"]
    assert "v1 selection rules" in body["policy"] and "bandit" in body["policy"]
    # the regime is the newest one journaled, and the choice is select() on it
    regime, line = latest_regime(journals[1], None)  # type: ignore[misc]
    assert body["regime"]["labels"] == regime.labels()
    source = body["regime"]["source"]
    assert source["event"] == line["event"] and source["ts"] == line["ts"]
    assert source.get("ref") == line.get("ref")  # a REGIME line of the compact journal
    facts = client.app.state.facts
    fits = [
        n for n in body["actions"] if select(n, facts[n].rule, regime, facts[n].side_of).allowed
    ]
    assert body["chosen"] == (fits[0] if fits else None)
    assert [v["allowed"] for v in body["verdicts"]] == [n in fits for n in body["actions"]]
    # the confidence is the dashboard's score of these figures
    conf = body["confidence"]
    assert set(conf["components"]) == {"time", "delta", "distance", "ivr", "pnl", "event", "gamma"}
    assert conf["components"]["distance"]["measure"] == pytest.approx(1.8)
    assert conf["components"]["ivr"]["measure"] == pytest.approx(62.0)
    assert conf["components"]["gamma"]["measure"] == pytest.approx(0.05)
    assert "Δ 0.14" in conf["reassuring"]
    lines = journaled(journals)
    assert len(lines) == 1
    assert lines[0]["event"] == "DECISION" and lines[0]["source"] == "api"
    assert lines[0]["request"] == payload() and lines[0]["chosen"] == body["chosen"]


def test_the_confidence_is_the_confidence_agents_score(client: Any) -> None:
    res = client.post("/decision", json=payload(dte=10, short_delta=0.28), headers=AUTH)
    body = res.json()
    facts = client.app.state.facts[body["confidence"]["scored_as"]]
    cfg = client.app.state.settings.config.confidence
    expected = confidence(
        ConfidenceInputs(
            dte=10,
            short_deltas=(0.28,),
            spot=1.8,
            short_strikes=(0.0,),
            atr=1.0,
            iv_rank=62.0,
            aligned_with_high_ivr=facts.sells_premium,
            pnl_unit=0.2,
            credit=1.0,
            position_gamma=-0.1,
            multiplier=1,
            max_loss=1.0,
            next_event=("event", 6),
            manage_dte=facts.manage_dte,
        ),
        cfg,
    )
    assert body["confidence"]["score"] == pytest.approx(round(expected.score, 2))
    assert body["confidence"]["worrying"] == expected.worrying


def test_without_a_regime_journaled_nothing_is_chosen_and_the_answer_says_why(
    journals: tuple[Path, Path], tmp_path: Path
) -> None:
    empty = tmp_path / "empty-logs"
    empty.mkdir()
    with client_for(settings_for(journals[0], empty)) as c:
        res = c.post("/decision", json=payload(), headers=AUTH)
    body = res.json()
    assert res.status_code == 200
    assert body["chosen"] is None and "no regime known" in body["reason"]


def test_a_listing_without_a_regime_is_missing_data(client: Any) -> None:
    res = client.post("/decision?listing=NOPE", json=payload(), headers=AUTH)
    assert res.json()["chosen"] is None
    assert "no regime known for NOPE" in res.json()["reason"]


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        ({k: v for k, v in payload().items() if k != "dte"}, "dte", "missing"),
        ({k: v for k, v in payload().items() if k != "features"}, "features", "missing"),
        (payload(extra=1), "extra", "extra_forbidden"),
        (payload(features=[0.1] * 7), "features", "value_error"),
        (payload(features=[0.1] * 9), "features", "value_error"),
        (payload(short_delta=math.nan), "short_delta", "finite_number"),
        (payload(features=[math.nan] + [0.1] * 7), "features", "finite_number"),
        (payload(gamma_risk=math.inf), "gamma_risk", "finite_number"),
        (payload(dte="38"), "dte", "int_type"),
        (payload(dte=38.5), "dte", "int_type"),
        (payload(ivr_norm=1.5), "ivr_norm", "less_than_equal"),
    ],
)
def test_a_bad_decision_payload_is_a_422_naming_the_field_and_nothing_is_journaled(
    client: Any, journals: tuple[Path, Path], body: dict[str, Any], field: str, kind: str
) -> None:
    res = client.post(
        "/decision",
        content=json.dumps(body),  # allow_nan: NaN and Infinity as JSON literals
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert res.status_code == 422, res.text
    errors = res.json()["detail"]
    assert any(e["loc"][:2] == ["body", field] and e["type"] == kind for e in errors), errors
    assert not decisions_file(journals).exists() or journaled(journals) == []


def test_a_decision_needs_the_token(client: Any, journals: tuple[Path, Path]) -> None:
    assert client.post("/decision", json=payload()).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token-at-all-000"}
    res = client.post("/decision", json=payload(), headers=wrong)
    assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer"
    assert journaled(journals) == []


def test_without_a_configured_token_every_state_change_is_refused(
    journals: tuple[Path, Path],
) -> None:
    with client_for(without_token(settings_for(*journals))) as c:
        res = c.post("/decision", json=payload(), headers=AUTH)
    assert res.status_code == 401 and "SEEKER_WEB_TOKEN" in res.json()["detail"]


def test_history_is_newest_first_and_limited(client: Any) -> None:
    for dte in (10, 20, 30):
        assert client.post("/decision", json=payload(dte=dte), headers=AUTH).status_code == 200
    items = client.get("/history?limit=2").json()["items"]
    assert [i["request"]["dte"] for i in items] == [30, 20]
    assert [i["request"]["dte"] for i in client.get("/history").json()["items"]] == [30, 20, 10]
    assert client.get("/history?limit=0").status_code == 422


def test_history_is_empty_before_any_decision(client: Any) -> None:
    assert client.get("/history?limit=5").json() == {"items": []}


RISK_OK = {
    "proposed_risk_pct": 4.0,
    "portfolio_risk_pct": 5.0,
    "sector_risk_pct": 10.0,
    "corr_cluster_risk_pct": 10.0,
    "underlying_risk_pct": 0.0,
}


def test_risk_evaluate_allows_a_trade_within_every_cap(client: Any) -> None:
    res = client.post("/risk/evaluate", json=RISK_OK)
    assert res.status_code == 200
    assert res.json() == {"allowed": True, "reason": "reserved 40.00 $ for 1 unit(s)"}


@pytest.mark.parametrize(
    ("over", "cap"),
    [
        ({"proposed_risk_pct": 11.0}, "per_trade"),
        (
            {"portfolio_risk_pct": 22.0, "sector_risk_pct": 0.0, "corr_cluster_risk_pct": 0.0},
            "portfolio",
        ),
        ({"portfolio_risk_pct": 20.0, "sector_risk_pct": 30.0}, "sector"),
        ({"portfolio_risk_pct": 20.0, "corr_cluster_risk_pct": 40.0}, "cluster"),
        ({"proposed_risk_pct": 3.0, "underlying_risk_pct": 10.0}, "underlying"),
    ],
)
def test_risk_evaluate_names_the_cap_that_binds(
    client: Any, over: dict[str, float], cap: str
) -> None:
    res = client.post("/risk/evaluate", json={**RISK_OK, **over})
    assert res.status_code == 200
    body = res.json()
    assert body["allowed"] is False and body["reason"].startswith(f"{cap} cap:"), body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in RISK_OK.items() if k != "sector_risk_pct"}, "sector_risk_pct"),
        ({**RISK_OK, "extra": 1.0}, "extra"),
        ({**RISK_OK, "portfolio_risk_pct": math.nan}, "portfolio_risk_pct"),
        ({**RISK_OK, "proposed_risk_pct": "4"}, "proposed_risk_pct"),
        ({**RISK_OK, "sector_risk_pct": 60.0}, "sector_risk_pct"),  # 150 $ > the 50 $ committed
    ],
)
def test_a_bad_risk_payload_is_a_422_naming_the_field(
    client: Any, body: dict[str, Any], field: str
) -> None:
    res = client.post(
        "/risk/evaluate", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert res.status_code == 422, res.text
    assert any(e["loc"][:2] == ["body", field] for e in res.json()["detail"])


pcts = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposed=st.floats(0.01, 20.0), portfolio=st.floats(0.0, 30.0), s=pcts, c=pcts, u=pcts)
def test_risk_evaluate_agrees_with_the_caps_arithmetic(
    proposed: float, portfolio: float, s: float, c: float, u: float
) -> None:
    capital, budget_pct = 1000.0, 25.0
    caps = Caps.from_pcts(capital, 10.0, budget_pct, 40.0, 50.0, 20.0)
    budget = capital * budget_pct / 100
    used = {"sector": budget * s / 100, "cluster": budget * c / 100, "underlying": budget * u / 100}
    whole = capital * portfolio / 100
    req = RiskRequest(
        proposed_risk_pct=proposed,
        portfolio_risk_pct=portfolio,
        sector_risk_pct=s,
        corr_cluster_risk_pct=c,
        underlying_risk_pct=u,
    )
    if any(v > whole + 1e-9 for v in used.values()):
        with pytest.raises(ValueError):
            evaluate(req, capital, caps, budget_pct)
        return
    risk = capital * proposed / 100
    fits = (
        risk <= caps.per_trade + 1e-9
        and whole + risk <= caps.portfolio + 1e-9
        and used["sector"] + risk <= caps.sector + 1e-9
        and used["cluster"] + risk <= caps.cluster + 1e-9
        and used["underlying"] + risk <= caps.underlying + 1e-9
    )
    assert evaluate(req, capital, caps, budget_pct).allowed is fits
