"""The compact DECISION journal loses nothing: the same run journaled in full and compact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seeker.cli.app import app
from seeker.config.loading import validate_config
from seeker.core.decision_lines import expand_decisions
from seeker.core.journal import read_events, read_jsonl, regimes_of, to_json_line
from seeker.engine.runner import run_strategies
from seeker.engine.wiring import build_sim_services
from seeker.reports.expand import DecisionExpander
from tests.journal_text import journal_names, stored_bytes
from tests.support import ROOT, shipped, small, strategy_config_models

NAMES = ["iron_condor", "broken_wing_butterfly"]


def _run(tmp_path: Path, detail: str) -> Path:
    data = small(shipped())
    data["strategies"]["enabled"] = NAMES
    data["runtime"] = {"decision_lines": detail}
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    logs = tmp_path / detail
    services = build_sim_services(cfg, logs, days=12, emit=lambda _m: None)
    try:
        run_strategies(services, NAMES, tick_seconds=0.05)
    finally:
        services.broker.close()
        services.close_journals()
    return logs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same 12 sessions journaled in full and compact: (full, compact) log roots."""
    tmp = tmp_path_factory.mktemp("decisions")
    return _run(tmp, "full"), _run(tmp, "compact")


def test_every_compact_decision_rebuilds_to_the_full_line(runs: tuple[Path, Path]) -> None:
    full, compact = runs
    assert not (full / "_seeker" / "regimes.jsonl").exists()
    regimes = regimes_of(compact)
    assert regimes, "the compact run journaled no regime"
    for name in NAMES:
        want = [to_json_line(x) for x in read_jsonl(full / name / "decisions.jsonl")]
        raw = list(read_jsonl(compact / name / "decisions.jsonl"))
        assert raw[0]["event"] == "STRATEGY" and "regime_rule" in raw[0]
        assert all("regime" not in x for x in raw if x["event"] == "DECISION")
        got = [to_json_line(x) for x in expand_decisions(raw, regimes)]
        assert len(want) > 20 and got == want
        # readers get the full shape
        read = [to_json_line(x) for x in read_events(compact / name, ["DECISION"])]
        assert read == want
        # the rest of the journal is the same
        for other in ("trades.jsonl", "analysis.jsonl", "risk_events.jsonl"):
            assert stored_bytes(full / name / other) == stored_bytes(compact / name / other)
    size = sum(len(stored_bytes(p)) for f in compact.iterdir() for p in journal_names(f))
    size_full = sum(len(stored_bytes(p)) for f in full.iterdir() for p in journal_names(f))
    assert size < size_full


def _journal_json(root: Path, *args: str) -> list[str]:
    res = CliRunner().invoke(
        app, ["journal", "--json", "-e", "DECISION", "--log-dir", str(root), *args]
    )
    assert res.exit_code == 0, res.output
    return res.output.splitlines()


def test_journal_json_prints_compact_decisions_in_the_full_shape(runs: tuple[Path, Path]) -> None:
    """`seeker journal --json` of the compact run is the full run's, streamed and tailed."""
    full, compact = runs
    want = _journal_json(full)
    assert len(want) > 40 and all('"regime":' in x for x in want)
    assert _journal_json(compact) == want
    assert _journal_json(compact, "-n", "7") == _journal_json(full, "-n", "7")
    one = ["-s", NAMES[1], "-n", "3"]
    assert _journal_json(compact, *one) == _journal_json(full, *one)


def test_the_byte_splice_gives_the_rebuilt_line_for_every_decision(
    runs: tuple[Path, Path],
) -> None:
    """`journal --json` splices the regime into a DECISION line's bytes; on every line of the run
    the splice applies and gives exactly the line rebuilt from its parsed form."""
    full, compact = runs
    expander = DecisionExpander(compact)
    for name in NAMES:
        want = stored_bytes(full / name / "decisions.jsonl").splitlines(keepends=True)
        got = []
        for raw in stored_bytes(compact / name / "decisions.jsonl").splitlines():
            line = json.loads(raw)
            if line["event"] != "DECISION":
                continue
            spliced = expander._splice(name, raw, line)
            assert spliced is not None, raw[:200]
            assert spliced == to_json_line(expander.expand(name, line))
            got.append(expander.expand_raw(name, raw, line))
        assert got == want
