"""`seeker journal`: filters, compact coloured lines, and --json passing lines through unchanged."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from seeker.core.journal import Journal
from seeker.ui.journal_view import JournalFilter, select
from seeker.ui.lines import render_line
from tests.journal_text import journal_names, stored_lines
from tests.reports.test_reports import at, cli, write_journals


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("journal") / "logs"
    write_journals(root)
    system = Journal(root, "_seeker", lambda: at(5, 9, 30))
    system.write("RUN", status="started", strategies=["iron_condor"], broker="sim")
    system.close()
    return root


def all_lines(root: Path) -> list[str]:
    return [
        line
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        for path in journal_names(folder)
        for line in stored_lines(path)
    ]


def run(logs: Path, *args: str) -> str:
    res = cli("journal", "--log-dir", str(logs), *args)
    assert res.exit_code == 0, res.stderr
    return res.stdout


def test_pretty_print_is_one_compact_line_per_event_in_time_order(logs: Path) -> None:
    out = run(logs).splitlines()
    assert len(out) == len(all_lines(logs))
    stamps = [line[:16] for line in out]
    assert stamps == sorted(stamps)
    assert out[0].startswith("2026-01-05 09:30  _seeker") and "RUN" in out[0]
    refusal = next(x for x in out if "risk_guard" in x)
    assert "iron_condor" in refusal and "DECISION" in refusal
    assert "XLF no_trade [risk_guard] sector cap" in refusal
    fill = next(x for x in out if "FILL" in x and "ic-A.2" in x)
    assert "close ×1 at +0.06, commission 2.60 USD · exit take_profit" in fill


def test_json_passes_lines_through_unchanged(logs: Path) -> None:
    out = run(logs, "--json", "--strategy", "iron_condor", "--event", "FILL")
    trades = [
        line
        for line in (logs / "iron_condor" / "trades.jsonl").read_text().splitlines()
        if json.loads(line)["event"] == "FILL"
    ]
    shadow = [
        line
        for line in (logs / "iron_condor.shadow" / "trades.jsonl").read_text().splitlines()
        if json.loads(line)["event"] == "FILL"
    ]
    assert sorted(out.splitlines()) == sorted(trades + shadow)
    assert all(isinstance(json.loads(x), dict) for x in out.splitlines())
    everything = [e.raw for e in select(logs, JournalFilter())]
    assert sorted(everything) == sorted(all_lines(logs))


def events(entries: list) -> list[tuple[str, str]]:
    return [(e.source, e.line["event"]) for e in entries]


def test_filters(logs: Path) -> None:
    cs = select(logs, JournalFilter(strategies=["credit_spread"]))
    assert cs and {e.source for e in cs} == {"credit_spread"}
    ic = select(logs, JournalFilter(strategies=["iron_condor"]))
    assert {e.source for e in ic} == {"iron_condor", "iron_condor.shadow"}
    since = select(logs, JournalFilter(since=at(9, 0)))
    assert since and all(e.ts >= at(9, 0) for e in since)
    assert len(since) < len(select(logs, JournalFilter()))
    refusals = select(logs, JournalFilter(outcome="no_trade"))
    assert [e.line["blocked_by"] for e in refusals] == ["liquidity", "event_risk", "risk_guard"]
    by = select(logs, JournalFilter(blocked_by="risk_guard"))
    assert [e.line["reason"] for e in by] == ["sector cap"]
    orders = select(logs, JournalFilter(outcome="order", strategies=["credit_spread"]))
    assert [e.line["position_id"] for e in orders] == ["cs-C", "cs-D"]
    a = select(logs, JournalFilter(position="ic-A"))
    assert {e.line.get("position_id") for e in a} == {"ic-A"}
    assert {ev for _, ev in events(a)} == {
        "DECISION",
        "ORDER",
        "ORDER_STATUS",
        "FILL",
        "CONFIDENCE",
    }
    fills = select(logs, JournalFilter(events=["fill"], position="cs-C"))
    assert [(e.line["intent"], e.line["qty"]) for e in fills] == [("open", 2), ("close", 2)]
    tail = select(logs, JournalFilter(), tail=2)
    # the latest lines: cs-C's closing fill and its status at 01-12 11:00, in file order
    assert [(e.line["event"], e.line["order_id"]) for e in tail] == [
        ("FILL", "cs-C.2"),
        ("ORDER_STATUS", "cs-C.2"),
    ]


def test_lines_are_coloured_by_kind(logs: Path) -> None:
    def styles(source: str, line: dict) -> set[str]:
        return {str(span.style) for span in render_line(source, line).spans}

    entries = select(logs, JournalFilter(strategies=["iron_condor"]))
    fill = next(e.line for e in entries if e.line["event"] == "FILL")
    assert "bold green" in styles("iron_condor", fill)
    refusal = next(e.line for e in entries if e.line.get("outcome") == "no_trade")
    order = next(e.line for e in entries if e.line.get("outcome") == "order")
    assert "yellow" in styles("iron_condor", refusal)
    assert "green" in styles("iron_condor", order)
    risk = {"event": "RISK", "ts": "2026-01-09T10:00:00-05:00", "rule": "data", "detail": "x"}
    assert "red" in styles("iron_condor", risk)


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    write_journals(root)
    with (root / "iron_condor" / "decisions.jsonl").open("a") as fh:
        fh.write('{"event":"DECISION","ts":"2026-01-1')
    flt = JournalFilter(strategies=["iron_condor"], outcome="no_trade")
    assert [e.line["reason"] for e in select(root, flt)] == ["leg spread 0.08 > 0.05", "sector cap"]


def test_dashboard_preload_reads_only_the_tails_of_the_files(logs: Path) -> None:
    from seeker.ui.journal_view import recent_entries, tail_lines
    from seeker.ui.snapshot import TailKeeper

    path = logs / "iron_condor" / "trades.jsonl"
    raw = path.read_bytes().splitlines(keepends=True)[-3:]
    size = sum(len(x) for x in raw)
    assert tail_lines(path, size + 5) == [json.loads(x) for x in raw]  # partial line dropped
    entries = recent_entries(logs)
    assert len(entries) == len(all_lines(logs))
    stamps = [parse(line["ts"]) for _, line in entries]
    assert stamps == sorted(stamps)
    assert {src for src, _ in recent_entries(logs, ["credit_spread"])} == {"credit_spread"}
    keeper = TailKeeper()
    keeper.preload(entries)
    kinds = {line["event"] for _, line in keeper.lines}
    assert "CONFIDENCE" not in kinds and {"DECISION", "ORDER", "FILL", "RUN"} <= kinds
    assert all(line.get("status") not in ("submitted", "modified") for _, line in keeper.lines)


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def test_plain_lines_are_the_rendered_lines_without_colour(logs: Path) -> None:
    from seeker.ui.lines import plain_line

    entries = select(logs, JournalFilter())
    for e in entries:
        for source in (e.source, ""):
            assert plain_line(source, e.line) == render_line(source, e.line).plain
