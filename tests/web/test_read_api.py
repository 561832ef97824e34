"""The read endpoints the page is built from agree with the journals and with the CLI's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seeker.core.journal import read_events, strategy_folders, to_jsonable
from seeker.core.positions import PositionBook
from seeker.reports.summary import build_report
from seeker.ui.journal_view import JournalFilter, select
from tests.support import shipped, small
from tests.web.support import TOKEN, client_for, make_journals, settings_for


@pytest.fixture
def client(journals: tuple[Path, Path]) -> Any:
    with client_for(settings_for(*journals)) as c:
        yield c


def open_in_journal(logs: Path) -> dict[str, tuple[str, int]]:
    """Return the open positions replayed from the trades files: id → (folder, open qty)."""
    out = {}
    for folder in strategy_folders(logs):
        book = PositionBook()
        book.apply_all(read_events(logs / folder, ("ORDER", "FILL", "ORDER_STATUS")))
        for p in book.positions.values():
            if p.open_qty > 0:
                out[p.position_id] = (folder, p.open_qty)
    return out


def test_the_cards_are_the_open_positions_of_the_journal(
    client: Any, journals: tuple[Path, Path]
) -> None:
    cards = client.get("/api/positions").json()["open"]
    expected = open_in_journal(journals[1])
    assert expected, "the run left no open position: the test would prove nothing"
    assert {c["position_id"]: (c["folder"], c["qty"]) for c in cards} == expected
    for c in cards:
        assert 0 <= c["score"] <= 100 and c["reassuring"] + c["worrying"]
        assert c["bar"]["manage_at"] is not None and c["manage_dte"] is not None
        assert c["reminder"].startswith("next:")


def test_a_card_shows_its_latest_confidence_line(client: Any, journals: tuple[Path, Path]) -> None:
    card = client.get("/api/positions").json()["open"][0]
    lines = [
        x
        for x in read_events(journals[1] / card["folder"], ("CONFIDENCE",))
        if x["position_id"] == card["position_id"]
    ]
    assert card["score"] == lines[-1]["score"]
    assert card["worrying"] == lines[-1]["worrying"]
    assert card["dte"] == lines[-1]["dte"]


def test_the_status_is_the_status_file_with_liveness(
    client: Any, journals: tuple[Path, Path]
) -> None:
    body = client.get("/api/status").json()
    on_disk = json.loads((journals[1] / "_seeker" / "status.json").read_text())
    assert body["pid"] == on_disk["pid"] and body["strategies"] == on_disk["strategies"]
    assert body["alive"] is False  # the run has ended


def test_a_position_has_legs_greeks_touch_odds_payoff_and_history(client: Any) -> None:
    pid = client.get("/api/positions").json()["open"][0]["position_id"]
    body = client.get(f"/api/positions/{pid}").json()
    assert body["position_id"] == pid and body["problems"] == []
    assert len(body["legs"]) >= 2
    assert set(body["greeks"]["per_share"]) == {"delta", "gamma", "vega", "theta"}
    assert body["touch"] and all(0 <= t["probability"] <= 1 for t in body["touch"])
    payoff = body["payoff"]
    assert len(payoff["prices"]) == len(payoff["at_expiry"]) == len(payoff["t0"])
    assert payoff["max_loss"] < 0 < payoff["max_profit"] and payoff["breakevens"]
    assert body["confidence"] and body["history"][0]["event"] == "DECISION"


def test_an_unknown_position_is_a_404_with_close_matches(client: Any) -> None:
    pid = client.get("/api/positions").json()["open"][0]["position_id"]
    res = client.get(f"/api/positions/{pid}x")
    assert res.status_code == 404 and pid in res.json()["detail"]


def test_the_summary_is_seeker_summarys_report(client: Any, journals: tuple[Path, Path]) -> None:
    cfg = client.app.state.settings.config
    expected = build_report(journals[1], cfg.caps(), None, None, cfg.account.capital_currency)
    body = client.get("/api/summary").json()
    assert body["report"] == to_jsonable(expected.as_dict())
    trades = expected.real.trades
    curve = body["equity"].get("USD", [])
    assert len(curve) == len(trades)
    if trades:
        assert curve[-1]["equity"] == pytest.approx(sum(t.net_pnl for t in trades))


def test_the_journal_filters_as_seeker_journal(client: Any, journals: tuple[Path, Path]) -> None:
    res = client.get(
        "/api/journal", params={"outcome": "no_trade", "blocked_by": "regime", "limit": 50}
    )
    items = res.json()["items"]
    flt = JournalFilter(outcome="no_trade", blocked_by="regime")
    expected = select(journals[1], flt, 50)
    assert [i["line"] for i in items] == [e.line for e in reversed(expected)]
    assert all(i["line"]["blocked_by"] == "regime" for i in items) and items
    assert client.get("/api/journal", params={"since": "yesterday"}).status_code == 422


def test_the_effective_config_is_served_and_the_token_never_is(client: Any) -> None:
    body = client.get("/api/config").json()
    assert body["values"]["risk.max_per_trade_pct"] == "10"
    for path in ("/", "/parameters", "/api/config", "/api/overview", "/openapi.json", "/journal"):
        assert TOKEN not in client.get(path).text, path


def test_pages_render(client: Any) -> None:
    pid = client.get("/api/positions").json()["open"][0]["position_id"]
    for path in ("/", "/journal", "/results", "/parameters", f"/positions/{pid}", "/docs"):
        res = client.get(path)
        assert res.status_code == 200, path
    assert "payoff-chart" in client.get(f"/positions/{pid}").text


def test_a_foreign_host_header_is_refused_on_loopback(client: Any) -> None:
    # DNS rebinding: a page of another site that resolves to 127.0.0.1 cannot read Seeker
    assert client.get("/health", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/health", headers={"Host": "localhost:8001"}).status_code == 200


def test_the_overview_shows_the_account_as_the_status_file_has_it(
    client: Any, journals: tuple[Path, Path]
) -> None:
    account = json.loads((journals[1] / "_seeker" / "status.json").read_text())["account"]
    figures = account["figures"]
    page = client.get("/").text
    assert f"equity <b>{figures['equity']:.2f}</b> {figures['currency']}" in page
    assert f"drawdown <b>{figures['drawdown_pct']:.1f} %</b>" in page
    assert f"(limit {account['limits']['max_drawdown_pct']:.0f} %)" in page
    daily = account["limits"]["daily_loss_pct"] * figures["session_open"] / 100  # not the capital
    assert f"(limit −{daily:.2f}: " in page and figures["session_open"] != account["basis"]
    assert "limit tripped" not in page  # nothing tripped in this short run


def test_a_tripped_limit_is_on_the_overview(tmp_path: Path) -> None:
    data = small(shipped())
    data["limits"]["max_drawdown_pct"] = 0.5  # 5 $ below the peak stops entries
    config, logs = make_journals(tmp_path, data)
    trips = [x for x in read_events(logs / "_seeker", ("LIMIT",)) if x["change"] == "trip"]
    assert trips, "the run tripped no limit: the test would prove nothing"
    with client_for(settings_for(config, logs)) as c:
        page = c.get("/").text
    assert "⚠ drawdown limit tripped: " + trips[0]["reason"] in page
