"""The journal readers stream: backward and forward reads agree, tails equal the full read's end,
merges keep the time order, and memory stays flat on a journal larger than the memory goal."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seeker.core.journal import to_json_line
from seeker.core.journal_files import MemberEncoder, compressed_path
from seeker.core.tz import MARKET_TZ
from seeker.reports.reading import backward, forward, raw_ts, top_number, top_string
from seeker.reports.summary import build_report
from seeker.ui.journal_view import FILE_ORDER, JournalFilter, journal_folders, select, tail_entries
from tests.journal_text import journal_names, stored_bytes, stored_lines
from tests.reports.test_reports import CAPS, write_journals
from tests.support import ROOT

MEMORY_GOAL_MB = 100.0
"""The issue's goal for `summary` and for streaming every line (1 MB = 10^6 bytes)."""


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stream") / "logs"
    write_journals(root)
    return root


@given(
    lines=st.lists(
        st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30
    ),
    block=st.integers(min_value=1, max_value=50),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_backward_reads_the_lines_of_forward_in_reverse(
    tmp_path: Path, lines: list[bytes], block: int
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"".join(x + b"\n" for x in lines))
    expected = [x for x in lines if x.strip()]
    assert list(forward(path)) == expected
    assert list(backward(path, block)) == expected[::-1]


def reference(root: Path) -> list[str]:
    """Every line under `root` sorted by time, ties in folder then file then line order."""
    rows = []
    for folder in journal_folders(root):
        for name in FILE_ORDER:
            for raw in stored_lines(root / folder / name):
                ts = datetime.fromisoformat(json.loads(raw)["ts"])
                rows.append((ts, len(rows), raw))
    return [raw for _, _, raw in sorted(rows)]


def test_the_streamed_merge_is_the_sorted_journal(logs: Path) -> None:
    assert [e.raw for e in select(logs, JournalFilter())] == reference(logs)


FILTERS = [
    JournalFilter(),
    JournalFilter(strategies=["iron_condor"]),
    JournalFilter(events=["FILL", "ORDER_STATUS"]),
    JournalFilter(outcome="no_trade"),
    JournalFilter(position="cs-C"),
    JournalFilter(since=datetime(2026, 1, 8, tzinfo=MARKET_TZ)),
]


@given(n=st.integers(min_value=1, max_value=80), which=st.integers(0, len(FILTERS) - 1))
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_tail_is_the_end_of_the_full_read(logs: Path, n: int, which: int) -> None:
    flt = FILTERS[which]
    full = [e.raw for e in select(logs, flt)]
    assert [e.raw for e in tail_entries(logs, flt, n)] == full[-n:]


def test_a_file_out_of_time_order_loses_nothing_and_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "logs"
    write_journals(root)
    path = root / "credit_spread" / "trades.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[-3:] + lines[:-3]))  # the last lines moved to the front
    with caplog.at_level(logging.WARNING):
        got = [e.raw for e in select(root, JournalFilter(strategies=["credit_spread"]))]
    assert sorted(got) == sorted(x for x in reference(root) if '"credit_spread"' in x or x in got)
    assert len(got) == sum(len(stored_lines(f)) for f in journal_names(root / "credit_spread"))
    assert "out of time order" in caplog.text and str(path) in caplog.text
    report = build_report(root, CAPS).as_dict()  # the summary sorts such a file instead
    ordered = root.parent / "ordered"
    write_journals(ordered)
    assert report["rows"] == build_report(ordered, CAPS).as_dict()["rows"]


def test_fields_are_read_from_a_line_s_head_and_only_at_the_top_level() -> None:
    line = to_json_line(
        {
            "event": "DECISION",
            "ts": datetime(2026, 1, 5, 10, tzinfo=MARKET_TZ),
            "outcome": "no_trade",
            "reason": 'a "quoted" {brace}',
            "blocked_by": None,
            "nested": {"outcome": "order", "pnl_unit": 1.5},
        }
    ).rstrip()
    assert raw_ts(line) == datetime(2026, 1, 5, 10, tzinfo=MARKET_TZ)
    assert top_string(line, "outcome") == (True, "no_trade")
    assert top_string(line, "blocked_by")[0] is False  # a brace in the reason: parse instead
    assert top_number(line, "pnl_unit") == (False, None)  # only inside a nested object
    simple = b'{"event":"CONFIDENCE","ts":"2026-01-05T10:00:00-05:00","pnl_unit":-0.03,"x":{}}'
    assert top_number(simple, "pnl_unit") == (True, -0.03)


# -- memory on a journal larger than the goal ---------------------------------------------------
def decision(i: int, when: datetime) -> dict[str, Any]:
    """Return a DECISION line shaped like the engine's (~2.5 kB: regime, features, verdicts)."""
    verdicts = {
        agent: {"allowed": i % 7 != k, "reason": f"{agent} figures for setup {i}", "score": 0.5}
        | {f"figure_{j}": round(i * 0.001 + j, 4) for j in range(12)}
        for k, agent in enumerate(("critic", "liquidity", "event_risk", "risk_guard", "fx_router"))
    }
    return {
        "event": "DECISION",
        "ts": when,
        "decision_id": f"ic-d{i:07d}",
        "strategy": "iron_condor",
        "underlying": ("XLF", "IWM", "SLV")[i % 3],
        "outcome": "no_trade" if i % 5 else "order",
        "reason": "liquidity: leg spread 0.08 > 0.05" if i % 5 else "all vetoes passed",
        "blocked_by": ("liquidity", "regime", "risk_guard", "event_risk")[i % 4] if i % 5 else None,
        "binding": None,
        "position_id": None,
        "regime": {f"measure_{j}": round(i * 0.01 + j, 4) for j in range(20)},
        "features": {f"feature_{j}": round(i * 0.003 + j, 5) for j in range(25)},
        "verdicts": verdicts,
    }


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Journals of ~130 MB (uncompressed): the hand-written trades, and 50 000 DECISION lines in
    one compressed file."""
    root = tmp_path_factory.mktemp("big") / "logs"
    write_journals(root)
    start = datetime(2026, 1, 5, 9, 30, tzinfo=MARKET_TZ)
    stamp = start.isoformat().encode()
    templates = [to_json_line(decision(k, start)) for k in range(20)]  # every outcome × agent
    path = compressed_path(root / "iron_condor" / "decisions.jsonl")
    path.unlink()
    encoder = MemberEncoder()  # as the journal writes them: batches of lines, gzip members
    with path.open("wb") as fh:
        batch = []
        for i in range(50_000):
            when = (start + timedelta(seconds=20 * i)).isoformat().encode()
            batch.append(templates[i % 20].replace(stamp, when, 1))
            if len(batch) == 40:
                fh.write(encoder.encode(b"".join(batch)))
                batch.clear()
        fh.write(encoder.encode(b"".join(batch)) + encoder.finish())
    return root


LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=sys.stdout)
_, status, usage = os.wait4(proc.pid, 0)
sys.stderr.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""
"""Runs a command and reports its exit code and peak RSS (kB): a child forked from this small
process, not from pytest, whose memory Linux would count in the child's peak."""


def peak_mb(args: list[str], cwd: Path, keep: bool = False) -> tuple[float, int, bytes]:
    """Run ``python -m seeker ARGS``; return its peak resident memory (MB), the bytes it printed
    and, with `keep`, all of them (else none)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-m", "seeker", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    count, kept = 0, []
    for chunk in iter(lambda: proc.stdout.read(1 << 16), b""):  # type: ignore[union-attr]
        count += len(chunk)
        if keep:
            kept.append(chunk)
    code, rss_kb = proc.stderr.read().split()[-2:]
    assert proc.wait() == 0 and code == b"0", args
    return int(rss_kb) * 1024 / 1e6, count, b"".join(kept)


def test_streaming_readers_keep_memory_flat_on_a_large_journal(big: Path) -> None:
    files = [p for folder in big.iterdir() for p in journal_names(folder)]
    size = sum(len(stored_bytes(p)) for p in files) / 1e6  # as written, before compression
    lines = sum(len(stored_lines(p)) for p in files)
    assert size > 1.2 * MEMORY_GOAL_MB
    figures = {}
    for label, args in (
        ("journal --json (every line)", ["journal", "--json"]),
        ("journal -n 3", ["journal", "-n", "3"]),
        ("summary --json", ["summary", "--json"]),
    ):
        keep = label.startswith("summary")
        figures[label], printed, out = peak_mb([*args, "--log-dir", str(big)], ROOT, keep)
        if label.startswith("journal --json"):
            assert printed >= size * 1e6 * 0.99  # every line went through
        if keep:
            ic = next(r for r in json.loads(out)["rows"] if r["strategy"] == "iron_condor")
            assert ic["decisions"] == 50_000
            assert ic["refusals"] == {
                "event_risk": 10_000,
                "liquidity": 10_000,
                "regime": 10_000,
                "risk_guard": 10_000,
            }
    print(
        f"\njournals {size:.0f} MB, {lines} lines; peak memory (MB): "
        + ", ".join(f"{k} {v:.0f}" for k, v in figures.items())
    )
    for label, mb in figures.items():
        assert mb <= MEMORY_GOAL_MB, (label, mb, size)
