"""Compact DECISION lines in the full shape, for readers that see lines out of file order.

A compact DECISION line names its regime (``regime_ref``, a REGIME line of
``_seeker/regimes.jsonl``) and leaves out its strategy's regime rule (the STRATEGY line at the top
of each run's part of ``decisions.jsonl``). A reader that streams a file from its start expands
them as it goes (``seeker.core.decision_lines.expand_decisions``); `DecisionExpander` serves the
others — a tail read backward, lines of many folders merged by time — by loading the regimes once
and each folder's STRATEGY lines (a few per file, found by their bytes) on first use.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.core.decision_lines import STRATEGY_EVENT, expand_decision
from seeker.core.journal import EVENT_FILES, regimes_of
from seeker.reports.reading import EARLIEST, forward, line_ts, parse

_Rules = tuple[list[datetime], list[Mapping[str, Mapping[str, Any]]]]


class DecisionExpander:
    """Return DECISION lines of the journals under `root` in the full shape."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._regimes: dict[str, Mapping[str, Any]] | None = None
        self._rules: dict[str, _Rules] = {}

    def expand(self, folder: str, line: Mapping[str, Any]) -> Mapping[str, Any]:
        """Return `line` (a line of `folder`) in the full shape; unchanged when it is not a compact
        DECISION, or when what it refers to is missing (a torn or foreign file)."""
        if line.get("event") != "DECISION" or "regime_ref" not in line:
            return line
        if self._regimes is None:
            self._regimes = regimes_of(self.root)
        times, rules = self._folder_rules(folder)
        at = bisect.bisect_right(times, line_ts(b"", dict(line))) - 1
        try:
            return expand_decision(line, self._regimes, rules[max(at, 0)] if rules else {})
        except KeyError:
            return line

    def _folder_rules(self, folder: str) -> _Rules:
        """Return the times of a folder's STRATEGY lines and the rules in force from each."""
        hit = self._rules.get(folder)
        if hit is None:
            times: list[datetime] = []
            rules: list[Mapping[str, Mapping[str, Any]]] = []
            path = self.root / folder / EVENT_FILES["DECISION"]
            current: dict[str, Mapping[str, Any]] = {}
            for raw in forward(path, b'"' + STRATEGY_EVENT.encode() + b'"'):
                obj = parse(raw, path)
                if obj is None or obj.get("event") != STRATEGY_EVENT:
                    continue
                current = {**current, str(obj["strategy"]): obj["regime_rule"]}
                ts = line_ts(raw, obj)
                if times and ts == EARLIEST:
                    continue
                times.append(ts)
                rules.append(current)
            hit = self._rules[folder] = (times, rules)
        return hit
