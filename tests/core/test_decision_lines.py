"""The compact DECISION journal: references written once, expanded back to the full shape."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from seeker.core.decision_lines import (
    compact_regime_verdict,
    expand_decision,
    expand_decisions,
    load_regimes,
    regime_ref,
)
from seeker.core.journal import to_json_line

REGIME = {"listing_id": "XLF", "day": "2026-03-13", "close": 52.1, "labels": {"trend": "none"}}
RULE = {"trend": ["up", "down", "none"], "ivr": ["high"]}
FULL = {
    "event": "DECISION",
    "ts": "2026-03-16T10:00:00-04:00",
    "decision_id": "ic-20260316-d001",
    "strategy": "iron_condor",
    "underlying": "XLF",
    "outcome": "no_trade",
    "reason": "…",
    "blocked_by": "regime",
    "binding": "regime",
    "position_id": None,
    "regime": REGIME,
    "setup": None,
    "features": {},
    "verdicts": [
        {
            "agent": "regime",
            "allowed": False,
            "reason": "iron_condor: range + high IVR needed",
            "score": None,
            "details": {"strategy": "iron_condor", "rule": RULE, "failed": ["ivr"]},
        },
        {"agent": "critic", "allowed": True, "reason": "ok", "score": 50.0, "details": {}},
    ],
    "market_data": "simulated",
    "shadow": False,
}


def compact(line: dict[str, object], ref: str) -> dict[str, object]:
    """Return the compact shape of a full DECISION line (what the engine writes)."""
    out: dict[str, object] = {}
    for key, value in line.items():
        if key == "regime":
            out["regime_ref"] = ref
        elif key == "verdicts":
            out[key] = [
                compact_regime_verdict(v) if v["agent"] == "regime" else v  # type: ignore[index]
                for v in value  # type: ignore[attr-defined]
            ]
        else:
            out[key] = value
    return out


def test_a_compact_line_expands_to_the_full_one_byte_for_byte() -> None:
    ref = regime_ref(REGIME, {})
    assert ref == "XLF@2026-03-13"
    line = compact(FULL, ref)
    assert "regime" not in line and "rule" not in json.dumps(line)
    back = expand_decision(line, {ref: REGIME}, {"iron_condor": RULE})
    assert to_json_line(back) == to_json_line(FULL)


def test_the_stream_consumes_strategy_lines_and_keeps_others_in_order() -> None:
    ref = regime_ref(REGIME, {})
    lines = [
        {"event": "STRATEGY", "strategy": "iron_condor", "regime_rule": RULE},
        compact(FULL, ref),
        {"event": "RISK", "detail": "x"},
    ]
    regimes = load_regimes([{"event": "REGIME", "ref": ref, "regime": REGIME}])
    out = list(expand_decisions(lines, regimes))
    assert [x["event"] for x in out] == ["DECISION", "RISK"]
    assert to_json_line(out[0]) == to_json_line(FULL)
    kept = list(expand_decisions(lines, regimes, keep_refs=True))
    assert [x["event"] for x in kept] == ["STRATEGY", "DECISION", "RISK"]


def test_an_unknown_reference_leaves_the_line_as_it_is() -> None:
    line = compact(FULL, "XLF@2026-03-13")
    (out,) = expand_decisions([line], {})
    assert out == line


def test_a_full_line_passes_through() -> None:
    (out,) = expand_decisions([FULL], {})
    assert out == FULL


@given(close=st.floats(1.0, 500.0, allow_nan=False))
def test_a_reclassified_day_gets_its_own_reference(close: float) -> None:
    taken = {"XLF@2026-03-13": REGIME}
    same = regime_ref(dict(REGIME), taken)
    assert same == "XLF@2026-03-13"
    other = {**REGIME, "close": close}
    ref = regime_ref(other, taken)
    assert ref == ("XLF@2026-03-13" if other == REGIME else "XLF@2026-03-13~2")
    taken[ref] = other
    third = {**REGIME, "close": -1.0}
    assert regime_ref(third, taken).startswith("XLF@2026-03-13~")
    assert (
        regime_ref(third, taken) not in (same, ref) or taken.get(regime_ref(third, taken)) == third
    )
