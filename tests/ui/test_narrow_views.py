"""The views at 80 columns first: rendered by rich consoles of fixed sizes, on real journals.

A module fixture runs ``seeker run iron_condor credit_spread iron_fly --days 40`` on the shipped
config (the run the captures in docs/captures/ come from); the hand-written journals of
``test_reports`` and ``test_show`` add a second currency, a shadow folder and known IVs.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType

from seeker.config.loading import load_config
from seeker.core.payoff import best_gain_at_expiry, breakevens_at_expiry, worst_loss_at_expiry
from seeker.reports.summary import Report, StrategySummary, build_report
from seeker.ui.columns import Column, fit_tables
from seeker.ui.console import PLAIN_WIDTH, make_console
from seeker.ui.journal_view import JournalFilter, select
from seeker.ui.lines import print_journal
from seeker.ui.names import abbreviations, plural
from seeker.ui.position import load_position, position_ids
from seeker.ui.show import render_position
from seeker.ui.summary_view import print_report, strategy_table
from tests.reports.test_reports import write_journals
from tests.support import ROOT, SHIPPED, strategy_config_models

STRATEGIES = ("iron_condor", "credit_spread", "iron_fly")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?( [hd%])?$")


@pytest.fixture(scope="module")
def cfg() -> Any:
    return load_config(SHIPPED, strategy_config_models())


@pytest.fixture(scope="module")
def run_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Journals of a real 40-session run of three strategies on the shipped config."""
    logs = tmp_path_factory.mktemp("narrow") / "logs"
    cmd = [sys.executable, "-m", "seeker", "run", *STRATEGIES, "--days", "40"]
    cmd += ["--no-dashboard", "--log-dir", str(logs), "--config", str(SHIPPED)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return logs


@pytest.fixture(scope="module")
def hand_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hand") / "logs"
    write_journals(root)
    return root


def screen(draw: Any, width: int, height: int = 200) -> str:
    console = Console(record=True, width=width, height=height, file=io.StringIO())
    draw(console)
    return console.export_text()


def show_text(parts: list[RenderableType], width: int) -> str:
    def draw(console: Console) -> None:
        for part in parts:
            console.print(part)

    return screen(draw, width)


def report_of(root: Path, cfg: Any) -> Report:
    return build_report(root, cfg.caps(), None, None, cfg.account.capital_currency)


def table_cells(text: str) -> list[list[str]]:
    """Return the body cells of every rich table in `text` (lines between │ borders)."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines() if "│" in line]


# -- summary --------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [80, 64])
def test_summary_cuts_no_number_and_keeps_every_strategy_name(
    run_logs: Path, hand_logs: Path, cfg: Any, width: int
) -> None:
    for root in (run_logs, hand_logs):
        report = report_of(root, cfg)
        text = screen(lambda c, r=report: print_report(c, r), width)
        assert "…" not in text
        assert max(len(line) for line in text.splitlines()) <= width
        cells = [c for row in table_cells(text) for c in row]
        for row in report.rows:  # every figure of the by-strategy table is there, whole
            for value in (row.gross_pnl, row.commissions, row.net_pnl, row.max_drawdown):
                assert f"{value:.2f}" in cells, (row.strategy, value)
        # the key column of the by-strategy tables: full names, one row per strategy and
        # currency in each stacked part
        part = text.split("by strategy, after commissions")[1].split("trade quality")[0]
        labels = Counter(r[0] for r in table_cells(part) if r and r[0])
        names = Counter(r.strategy.removesuffix(".shadow") for r in report.rows if not r.shadow)
        if len(names) > 1:  # and the total across strategies, one per currency
            names["total"] = len(report.totals)
        parts = part.count("(continued)") + 1
        assert labels == Counter({k: v * parts for k, v in names.items()})


def test_summary_in_wide_and_plain_consoles_is_one_table_each(hand_logs: Path, cfg: Any) -> None:
    report = report_of(hand_logs, cfg)
    wide = screen(lambda c: print_report(c, report), 160)
    assert "(continued)" not in wide and "…" not in wide
    plain = make_console(io.StringIO(), environ={})
    assert plain.width == PLAIN_WIDTH
    plain.record = True
    print_report(plain, report)
    text = plain.export_text()
    assert "(continued)" not in text
    rule = next(line for line in text.splitlines() if "real trading" in line and "─" in line)
    assert len(rule) == 100  # a rule has no natural width: 100 columns, not 10 000
    assert "stop 50 % (1), take_profit 50 % (1)" in text  # exits on one line


def test_win_rate_is_a_dash_without_trades() -> None:
    rows = [StrategySummary(key="iron_fly", currency="USD", open_positions=2)]
    text = screen(lambda c: [c.print(t) for t in strategy_table(rows, "by strategy", 80)], 80)
    body = next(r for r in table_cells(text) if r and r[0] == "iron_fly")
    assert body[4] == "–" and body[-1] == "2"  # win %, open


# -- columns that fit -------------------------------------------------------------------------
labels = st.text("abcdefghij_", min_size=1, max_size=24)
numbers = st.floats(-99_999, 99_999, allow_nan=False).map(lambda x: f"{x:.2f}")


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(labels, min_size=1, max_size=6, unique=True),
    headers=st.lists(st.sampled_from(["net", "max loss", "avg slip.", "trades", "x"]), max_size=12),
    width=st.integers(40, 200),
    data=st.data(),
)
def test_fit_tables_never_cut_a_number_or_a_label(
    keys: list[str], headers: list[str], width: int, data: st.DataObject
) -> None:
    cols = [Column("name", "key", keys)]
    for i, h in enumerate(headers):
        cells = data.draw(st.lists(numbers, min_size=len(keys), max_size=len(keys)))
        cols.append(Column(h, "number", cells, group=i % 2))
    text = screen(lambda c: [c.print(t) for t in fit_tables("t", cols, width)], width)
    assert "…" not in text
    rows = table_cells(text)
    for col in cols[1:]:
        for cell in col.cells:
            assert cell in {c for r in rows for c in r}
    assert {r[0] for r in rows if r and r[0]} == set(keys)
    assert max(len(line) for line in text.splitlines()) <= max(width, 60)


word = st.text("abcz", min_size=1, max_size=6)
folder = st.tuples(st.lists(word, min_size=1, max_size=4), st.booleans(), st.booleans()).map(
    lambda t: ("_" if t[1] else "") + "_".join(t[0]) + (".shadow" if t[2] else "")
)


@settings(max_examples=150, deadline=None)
@given(st.lists(folder, max_size=8))
def test_abbreviations_are_short_unique_and_deterministic(names: list[str]) -> None:
    short = abbreviations(names)
    assert set(short) == set(names)
    assert len(set(short.values())) == len(short)
    for name, got in short.items():  # short enough, else the name itself (shadow: base*)
        assert len(got) <= 7 or got in (name, name.removesuffix(".shadow") + "*")
    assert abbreviations(list(reversed(names))) == short


def test_abbreviations_of_the_five_strategies() -> None:
    names = ["iron_condor", "iron_fly", "credit_spread", "broken_wing_butterfly", "diagonal"]
    got = abbreviations([*names, "_seeker", "iron_condor.shadow"])
    assert got == {
        "iron_condor": "ic",
        "iron_fly": "if",
        "credit_spread": "cs",
        "broken_wing_butterfly": "bwb",
        "diagonal": "diag",
        "_seeker": "_seeker",
        "iron_condor.shadow": "ic*",
    }
    assert plural(1, "simulated session") == "1 simulated session"
    assert plural(3, "simulated session") == "3 simulated sessions"


# -- show ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [80, 60])
def test_show_keeps_dates_and_labels_breakevens_and_extremes(
    run_logs: Path, cfg: Any, width: int
) -> None:
    for pid in sorted(position_ids(run_logs)):
        record = load_position(run_logs, pid)
        assert record is not None
        pos = record.position
        text = show_text(render_position(record, cfg, None, width), width)
        assert "…" not in text, pid
        for leg in pos.legs:  # the legs table: every expiry whole
            assert re.search(rf"│ {leg.contract.expiry.isoformat()} │", text), pid
        if pos.opened_qty == 0:
            continue
        legs, entry = pos.legs, pos.entry_price
        scale = pos.multiplier * (pos.open_qty or pos.opened_qty)
        bes = breakevens_at_expiry(legs, entry)
        assert f"◆ breakevens {' · '.join(f'{b:.2f}' for b in bes)}" in text, pid
        chart = text.split("── payoff ──")[1]
        axis = chart.split("└")[1].splitlines()[1]  # the labels under the x axis
        for b in bes:
            assert f"{b:.2f}" in axis, (pid, axis)
        best = best_gain_at_expiry(legs, entry) * scale
        worst = -worst_loss_at_expiry(legs, entry) * scale
        assert f"▲ max profit {best:+.2f} $" in text and f"▼ max loss {worst:+.2f} $" in text
        assert f" {best:+.2f} $ ┤" in text and f" {worst:+.2f} $ ┤" in text  # on the y axis
        assert "▲" in chart.split("▲ max profit")[0] and "◆" in chart.split("◆ breakevens")[0]


def test_greeks_touch_and_chart_name_the_same_ivs(run_logs: Path, cfg: Any) -> None:
    seen = set()
    for pid in sorted(position_ids(run_logs)):
        record = load_position(run_logs, pid)
        assert record is not None
        if record.position.opened_qty == 0:
            continue
        text = " ".join(show_text(render_position(record, cfg, None, 160), 160).split())
        found = re.search(
            r"from spot \S+ at [\d-]+ [\d:]+ with the (entry IVs|last IVs \([^)]*\))", text
        )
        assert found is not None, pid
        label = found.group(1)
        assert f"at the {label}" in text.split("probability of touch")[0]  # greeks source
        assert f"repriced with Black-Scholes at the {label}" in text  # the chart
        seen.add(label.split(" (")[0])
        if record.position.status == "closed" and record.lines("FILL")[-1].get("legs"):
            assert label.startswith("last IVs (")  # the closing fill is the newest IV
    assert seen == {"entry IVs", "last IVs"}


# -- journal --------------------------------------------------------------------------------
def test_journal_at_80_columns_wraps_under_its_text_and_is_plain_when_piped(
    run_logs: Path,
) -> None:
    entries = [(e.source, e.line) for e in select(run_logs, JournalFilter(), 40)]
    text = screen(lambda c: print_journal(c, entries), 80)
    lines = text.splitlines()
    assert lines[0].startswith("folders: ") and "cs credit_spread" in lines[0]
    assert max(len(x) for x in lines) <= 80
    starts = [x for x in lines[1:] if re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}  ", x)]
    assert len(starts) == len(entries)
    indent = len(re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}  \S+\s+\S+\s+", starts[0]).group(0))
    for line in lines[1:]:
        assert line in starts or (line.startswith(" " * indent) and line[indent] != " ")
    plain = make_console(io.StringIO(), environ={})
    plain.record = True
    print_journal(plain, entries)
    assert len(plain.export_text().splitlines()) == len(entries)  # one line each, no legend


# -- console width ----------------------------------------------------------------------------
def test_columns_is_honoured_for_a_pipe_and_plain_otherwise() -> None:
    assert make_console(io.StringIO(), environ={"COLUMNS": "80"}).width == 80
    assert make_console(io.StringIO(), environ={"COLUMNS": "junk"}).width == PLAIN_WIDTH
    assert make_console(io.StringIO(), environ={}).width == PLAIN_WIDTH
    code = "from seeker.ui.console import make_console; print(make_console().width)"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert piped.stdout.strip() == str(PLAIN_WIDTH)
    env["COLUMNS"] = "72"
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert piped.stdout.strip() == "72"


def test_a_terminal_uses_its_own_width() -> None:
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 97, 0, 0))
    code = (
        "import sys; from seeker.ui.console import make_console; "
        "sys.stderr.write(str(make_console().width))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        check=False,
    )
    os.close(follower)
    os.close(leader)
    assert done.stderr.decode().strip() == "97"
