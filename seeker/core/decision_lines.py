"""The compact DECISION journal: what is the same for many lines is written once, and expanded back.

A DECISION line carries every agent's verdict; two parts of it repeat across most lines: the
regime of the listing (the same for every decision on that listing and day) and the strategy's
regime rule inside the regime agent's verdict (the same for every decision of the strategy). The
compact journal writes them once:

* a ``REGIME`` line in ``_seeker/regimes.jsonl`` each time a listing's regime is classified (once
  per listing and day for every strategy): ``ref`` (``<listing>@<day>``, with ``~2``, ``~3``… when
  a restarted run classifies the same day again and finds other figures) and ``regime`` (every
  measure and label);
* a ``STRATEGY`` line in the strategy's ``decisions.jsonl`` when it starts: ``strategy`` and
  ``regime_rule``;
* DECISION lines carry ``regime_ref`` where the full shape has ``regime``, and the regime agent's
  verdict details keep only what differs per line (``failed``, ``side``).

:func:`expand_decisions` rebuilds every DECISION line to the full shape, key order included (a
test compares the rebuilt lines with a run journaled in full, byte for byte). Lines of other
events pass through unchanged; STRATEGY lines are consumed unless asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

REGIME_EVENT = "REGIME"
STRATEGY_EVENT = "STRATEGY"
REGIME_AGENT = "regime"
"""The agent whose verdict carries the strategy's rule."""
RULE_DETAILS = ("strategy", "rule")
"""The regime verdict's details a compact line leaves to the STRATEGY line."""

JsonLine = dict[str, Any]


REGIMES_FILE = "regimes.jsonl"
"""The file, in the process folder ``_seeker``, that holds the REGIME lines."""


def regime_ref(regime: Mapping[str, Any], taken: Mapping[str, Mapping[str, Any]]) -> str:
    """Return the reference of a regime dict: ``<listing>@<day>`` (the day of its last bar).

    When `taken` (the references already journaled) holds that reference with other figures, the
    first free ``~2``, ``~3``… suffix; the same figures reuse the reference.
    """
    base = f"{regime['listing_id']}@{regime['day']}"
    ref, n = base, 1
    while ref in taken and taken[ref] != regime:
        n += 1
        ref = f"{base}~{n}"
    return ref


def compact_regime_verdict(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """Return a regime verdict (as journaled) without the strategy name and rule in its details."""
    details = verdict.get("details") or {}
    kept = {k: v for k, v in details.items() if k not in RULE_DETAILS}
    return {**verdict, "details": kept}


def expand_decision(
    line: Mapping[str, Any],
    regimes: Mapping[str, Mapping[str, Any]],
    rules: Mapping[str, Mapping[str, Any]],
) -> JsonLine:
    """Return a compact DECISION line in the full shape (KeyError if a reference is unknown)."""
    if "regime_ref" not in line:
        return dict(line)
    out: JsonLine = {}
    for key, value in line.items():
        if key == "regime_ref":
            out["regime"] = regimes[value] if value is not None else None
        elif key == "verdicts":
            out["verdicts"] = [_expand_verdict(v, line, rules) for v in value]
        else:
            out[key] = value
    return out


def _expand_verdict(
    verdict: Mapping[str, Any], line: Mapping[str, Any], rules: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    if verdict.get("agent") != REGIME_AGENT:
        return dict(verdict)
    strategy = str(line["strategy"])
    details = {"strategy": strategy, "rule": rules[strategy], **(verdict.get("details") or {})}
    return {**verdict, "details": details}


def load_regimes(lines: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Return the regimes of REGIME lines by reference."""
    return {str(line["ref"]): line["regime"] for line in lines if line.get("event") == REGIME_EVENT}


def expand_decisions(
    lines: Iterable[Mapping[str, Any]],
    regimes: Mapping[str, Mapping[str, Any]],
    keep_refs: bool = False,
) -> Iterator[JsonLine]:
    """Yield journal lines with every DECISION in the full shape, in order (streaming).

    `regimes` are the REGIME lines' figures by reference (:func:`load_regimes`). STRATEGY lines
    are consumed (yielded too when `keep_refs`); a DECISION that names an unknown reference (a
    torn file) is yielded as it is.
    """
    rules: dict[str, Mapping[str, Any]] = {}
    for line in lines:
        event = line.get("event")
        if event == STRATEGY_EVENT:
            rules[str(line["strategy"])] = line["regime_rule"]
            if keep_refs:
                yield dict(line)
            continue
        if event == "DECISION":
            try:
                yield expand_decision(line, regimes, rules)
            except KeyError:
                yield dict(line)
            continue
        yield dict(line)
