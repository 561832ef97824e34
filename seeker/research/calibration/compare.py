"""Real against simulated: one row per statistic with both values and a verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from seeker.research.calibration.stats import STATISTICS, Measures, Statistic

Verdict = Literal["close", "sim higher", "sim lower", "not judged", "n/a"]


@dataclass(frozen=True)
class Row:
    """One statistic on both markets."""

    stat: Statistic
    real: float
    sim: float
    verdict: Verdict
    note: str

    def as_dict(self) -> dict[str, object]:
        """Return the row as JSON-ready values (NaN as None)."""
        return {
            "statistic": self.stat.key,
            "label": self.stat.label,
            "real": self.real if math.isfinite(self.real) else None,
            "sim": self.sim if math.isfinite(self.sim) else None,
            "verdict": self.verdict,
            "note": self.note,
        }


def judge(stat: Statistic, real: float, sim: float) -> tuple[Verdict, str]:
    """Return the verdict on one statistic and a short note (the gap, or why none)."""
    if not (math.isfinite(real) and math.isfinite(sim)):
        return "n/a", "not measured on " + (
            "the real chains" if not math.isfinite(real) else "the simulator"
        )
    gap = sim - real
    tol = max(stat.abs_tol, stat.rel_tol * abs(real))
    note = f"gap {gap:+.3f} (tolerance ±{tol:.3f})"
    if not stat.fitted:
        return "not judged", note + "; a level each listing sets"
    if abs(gap) <= tol:
        return "close", note
    return ("sim higher" if gap > 0 else "sim lower"), note


def compare(real: Measures, sim: Measures) -> list[Row]:
    """Return the side-by-side rows of every statistic."""
    rows = []
    for stat in STATISTICS:
        r = real.values.get(stat.key, math.nan)
        s = sim.values.get(stat.key, math.nan)
        verdict, note = judge(stat, r, s)
        why = real.missing.get(stat.key) or sim.missing.get(stat.key)
        rows.append(Row(stat, r, s, verdict, f"{note}; {why}" if why else note))
    return rows
