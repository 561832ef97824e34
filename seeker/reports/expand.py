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

from seeker.core.decision_lines import REGIME_AGENT, STRATEGY_EVENT, expand_decision
from seeker.core.journal import EVENT_FILES, regimes_of, to_json_line
from seeker.reports.reading import EARLIEST, forward, line_ts, parse

_Rules = tuple[list[datetime], list[Mapping[str, Mapping[str, Any]]]]
_REF = b'"regime_ref":'
_VERDICT = b'{"agent":"' + REGIME_AGENT.encode() + b'",'
_DETAILS = b'"details":'
_AGENT = b'{"agent":'


_VERDICT_KEYS = ["agent", "allowed", "reason", "score", "details"]
"""A verdict's keys in the order Seeker writes them (``Verdict.as_dict``)."""


def _as_written(line: Mapping[str, Any]) -> bool:
    """Return True when a compact line has the shape the splice relies on: at most one regime
    verdict, every verdict's keys as Seeker writes them, the regime verdict's details without
    the strategy and rule (a line edited by hand or written otherwise is rebuilt instead)."""
    verdicts = line.get("verdicts")
    if not isinstance(verdicts, list):
        return False
    regime = [v for v in verdicts if isinstance(v, dict) and v.get("agent") == REGIME_AGENT]
    if len(regime) > 1 or any(
        not isinstance(v, dict) or list(v) != _VERDICT_KEYS for v in verdicts
    ):
        return False
    details = regime[0]["details"] if regime else None
    return details is None or (
        isinstance(details, dict) and "strategy" not in details and "rule" not in details
    )


def _json(value: Any) -> bytes:
    """Return `value` as the journal writes it (compact JSON, no newline)."""
    return to_json_line({"v": value})[5:-2]


class DecisionExpander:
    """Return DECISION lines of the journals under `root` in the full shape."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._regimes: dict[str, Mapping[str, Any]] | None = None
        self._rules: dict[str, _Rules] = {}
        self._encoded: dict[tuple[str, int], bytes] = {}

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

    def expand_raw(self, folder: str, raw: bytes, line: Mapping[str, Any]) -> bytes:
        """Return the full-shape JSON line (with its newline) of a line read as `raw` and parsed
        as `line`: spliced from the bytes when they have the expected shape (the same bytes as
        ``to_json_line(self.expand(folder, line))``, three times faster), else rebuilt."""
        if line.get("event") != "DECISION" or "regime_ref" not in line:
            return raw + b"\n"
        fast = self._splice(folder, raw, line)
        return fast if fast is not None else to_json_line(self.expand(folder, line))

    def _splice(self, folder: str, raw: bytes, line: Mapping[str, Any]) -> bytes | None:
        """Return the expanded line from its bytes, None when its shape is not the expected one."""
        if self._regimes is None:
            self._regimes = regimes_of(self.root)
        if not _as_written(line):
            return None
        ref = line["regime_ref"]
        at = raw.find(_REF)
        if at < 0 or raw.find(_REF, at + 1) >= 0:
            return None
        if ref is None:
            regime = b"null"
        else:
            known = self._regimes.get(ref)
            if known is None:
                return None
            regime = self._cached(("regime", id(known)), known)
        old = _REF + _json(ref)
        if raw[at : at + len(old)] != old:
            return None
        out = raw[:at] + b'"regime":' + regime + raw[at + len(old) :]
        v = out.find(_VERDICT)
        if v < 0:
            return out + b"\n"
        if out.find(_VERDICT, v + 1) >= 0:
            return None
        d = out.find(_DETAILS, v)
        if d < 0 or 0 <= out.find(_AGENT, v + 1) < d:
            return None  # this verdict has no details key: rebuilt
        times, rules = self._folder_rules(folder)
        at_rule = bisect.bisect_right(times, line_ts(raw, dict(line))) - 1
        table = rules[max(at_rule, 0)] if rules else {}
        strategy = str(line.get("strategy"))
        rule = table.get(strategy)
        if rule is None:
            return None
        head = (
            b'"strategy":' + _json(strategy) + b',"rule":' + self._cached(("rule", id(rule)), rule)
        )
        value = d + len(_DETAILS)
        if out.startswith(b"null", value):
            return out[:value] + b"{" + head + b"}" + out[value + 4 :] + b"\n"
        if out.startswith(b"{}", value):
            return out[:value] + b"{" + head + b"}" + out[value + 2 :] + b"\n"
        if out.startswith(b"{", value):
            return out[: value + 1] + head + b"," + out[value + 1 :] + b"\n"
        return None

    def _cached(self, key: tuple[str, int], value: Any) -> bytes:
        hit = self._encoded.get(key)
        if hit is None:
            hit = self._encoded[key] = _json(value)
        return hit

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
