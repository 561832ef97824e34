"""One letter, A to F, for a candidate parameter set, from out-of-sample evidence only.

Five criteria, each scored 0–1 by a linear ramp between a "zero" and a "full" threshold
(below zero_at → 0, at or above full_at → 1), then weighted:

================  ==========================================  ======  ======  ======
criterion         raw figure                                  zero    full    weight
================  ==========================================  ======  ======  ======
oos_sharpe        annual Sharpe of the out-of-sample results  0.0     1.0     0.25
consistency       share of folds with a positive OOS result   0.4     0.8     0.20
oos_is_ratio      OOS Sharpe / IS Sharpe (walk-forward eff.)  0.1     0.6     0.15
dsr               Deflated Sharpe Ratio of the selection      0.5     0.95    0.25
stability         share of neighbours keeping the objective   0.5     0.9     0.15
================  ==========================================  ======  ======  ======

Letters from the weighted score: A ≥ 0.85, B ≥ 0.70, C ≥ 0.55, D ≥ 0.40, else F. Two rules
override the score: a candidate that loses out of sample (OOS Sharpe ≤ 0) is F, and fewer than
30 OOS trades is *underpowered*: the letter is capped at B and the card says why. A missing figure
(IS Sharpe ≤ 0 leaves no ratio, stability not measured) scores 0. The thresholds are this
module's reading of common practice (walk-forward efficiency ≥ 0.5–0.6 after Pardo, DSR ≥ 0.95
as the papers' significance level); all of them are data in `DEFAULT_POLICY`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, model_validator

from seeker.core.config_base import StrictModel

Letter = Literal["A", "B", "C", "D", "F"]
LETTERS: tuple[Letter, ...] = ("A", "B", "C", "D", "F")
CRITERIA = ("oos_sharpe", "consistency", "oos_is_ratio", "dsr", "stability")

Finite = Annotated[float, Field(allow_inf_nan=False)]


class CriterionRule(StrictModel):
    """A 0–1 ramp from `zero_at` to `full_at` (higher raw is better) and its weight."""

    zero_at: Finite
    full_at: Finite
    weight: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _ordered(self) -> CriterionRule:
        if self.full_at <= self.zero_at:
            raise ValueError(f"full_at ({self.full_at}) must be above zero_at ({self.zero_at})")
        return self

    def score(self, raw: float | None) -> float:
        """Return the raw figure's score in [0, 1] (0 when there is no figure)."""
        if raw is None:
            return 0.0
        return min(1.0, max(0.0, (raw - self.zero_at) / (self.full_at - self.zero_at)))


class LetterCutoffs(StrictModel):
    """The least weighted score for each letter above F."""

    a: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    b: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    c: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    d: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _descending(self) -> LetterCutoffs:
        if not self.a > self.b > self.c > self.d:
            raise ValueError("cutoffs must fall strictly from a to d")
        return self

    def letter(self, score: float) -> Letter:
        """Return the letter a weighted score earns."""
        for letter, least in zip(LETTERS, (self.a, self.b, self.c, self.d), strict=False):
            if score >= least:
                return letter
        return "F"


class GradePolicy(StrictModel):
    """Every threshold and weight of the grade."""

    oos_sharpe: CriterionRule
    consistency: CriterionRule
    oos_is_ratio: CriterionRule
    dsr: CriterionRule
    stability: CriterionRule
    cutoffs: LetterCutoffs
    min_oos_trades: int = Field(ge=1)
    underpowered_cap: Literal["B", "C", "D", "F"]
    oos_loss_is_f: bool

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> GradePolicy:
        total = sum(getattr(self, name).weight for name in CRITERIA)
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"the criteria's weights must add up to 1 (they add up to {total})")
        return self

    def rule(self, name: str) -> CriterionRule:
        """Return the rule of criterion `name`."""
        rule: CriterionRule = getattr(self, name)
        return rule


DEFAULT_POLICY = GradePolicy(
    oos_sharpe=CriterionRule(zero_at=0.0, full_at=1.0, weight=0.25),
    consistency=CriterionRule(zero_at=0.4, full_at=0.8, weight=0.20),
    oos_is_ratio=CriterionRule(zero_at=0.1, full_at=0.6, weight=0.15),
    dsr=CriterionRule(zero_at=0.5, full_at=0.95, weight=0.25),
    stability=CriterionRule(zero_at=0.5, full_at=0.9, weight=0.15),
    cutoffs=LetterCutoffs(a=0.85, b=0.70, c=0.55, d=0.40),
    min_oos_trades=30,
    underpowered_cap="B",
    oos_loss_is_f=True,
)


@dataclass(frozen=True)
class GradeInputs:
    """The evidence about one candidate (Sharpe ratios annual, as the IS/OOS reports give them)."""

    oos_sharpe: float
    is_sharpe: float
    fold_oos_results: tuple[float, ...]
    dsr: float
    stability_kept_share: float | None
    oos_trades: int


@dataclass(frozen=True)
class CriterionScore:
    """One line of the card: the raw figure, its score, weight and weighted contribution."""

    name: str
    raw: float | None
    score: float
    weight: float
    contribution: float
    rule: str
    note: str


@dataclass(frozen=True)
class GradeCard:
    """The grade and everything it was made of."""

    grade: Letter
    score: float
    score_letter: Letter
    underpowered: bool
    oos_trades: int
    criteria: tuple[CriterionScore, ...]
    reasons: tuple[str, ...]

    def lines(self) -> list[str]:
        """Return the card as text lines: one per criterion, then the grade and its reasons."""
        out = [f"{'criterion':<13} {'raw':>9} {'score':>6} {'weight':>7} {'points':>7}  rule"]
        for c in self.criteria:
            raw = "—" if c.raw is None else f"{c.raw:.4g}"
            note = f"  ({c.note})" if c.note else ""
            out.append(
                f"{c.name:<13} {raw:>9} {c.score:>6.2f} {c.weight:>7.2f} "
                f"{c.contribution:>7.3f}  {c.rule}{note}"
            )
        out.append(f"score {self.score:.3f} → {self.score_letter}; grade {self.grade}")
        out.extend(f"  {r}" for r in self.reasons)
        return out


def _check_inputs(inputs: GradeInputs) -> None:
    figures = {"oos_sharpe": inputs.oos_sharpe, "is_sharpe": inputs.is_sharpe, "dsr": inputs.dsr}
    for name, value in figures.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number (got {value!r})")
    if not 0.0 <= inputs.dsr <= 1.0:
        raise ValueError(f"dsr is a probability in [0, 1] (got {inputs.dsr})")
    if not inputs.fold_oos_results:
        raise ValueError("fold_oos_results must hold one result per fold (got none)")
    if not all(math.isfinite(r) for r in inputs.fold_oos_results):
        raise ValueError("every fold's OOS result must be a finite number")
    share = inputs.stability_kept_share
    if share is not None and not 0.0 <= share <= 1.0:
        raise ValueError(f"stability_kept_share is a share in [0, 1] (got {share})")
    if isinstance(inputs.oos_trades, bool) or inputs.oos_trades < 0:
        raise ValueError(f"oos_trades must be a count ≥ 0 (got {inputs.oos_trades!r})")


def _raw_figures(inputs: GradeInputs) -> dict[str, tuple[float | None, str]]:
    folds = inputs.fold_oos_results
    positive = sum(r > 0.0 for r in folds)
    ratio: float | None = None
    ratio_note = "IS Sharpe ≤ 0: no ratio"
    if inputs.is_sharpe > 0.0:
        ratio = inputs.oos_sharpe / inputs.is_sharpe
        ratio_note = f"IS Sharpe {inputs.is_sharpe:.3g}"
    stability_note = "" if inputs.stability_kept_share is not None else "not measured"
    return {
        "oos_sharpe": (inputs.oos_sharpe, ""),
        "consistency": (positive / len(folds), f"{positive}/{len(folds)} folds positive"),
        "oos_is_ratio": (ratio, ratio_note),
        "dsr": (inputs.dsr, ""),
        "stability": (inputs.stability_kept_share, stability_note),
    }


def _worse(a: Letter, b: Letter) -> Letter:
    return a if LETTERS.index(a) >= LETTERS.index(b) else b


def grade(inputs: GradeInputs, policy: GradePolicy = DEFAULT_POLICY) -> GradeCard:
    """Return the grade card of one candidate under `policy`."""
    _check_inputs(inputs)
    rows: list[CriterionScore] = []
    for name, (raw, note) in _raw_figures(inputs).items():
        rule = policy.rule(name)
        score = rule.score(raw)
        rows.append(
            CriterionScore(
                name=name,
                raw=raw,
                score=score,
                weight=rule.weight,
                contribution=score * rule.weight,
                rule=f"0 at ≤ {rule.zero_at:g}, 1 at ≥ {rule.full_at:g}",
                note=note,
            )
        )
    total = sum(r.contribution for r in rows)
    score_letter = policy.cutoffs.letter(total)
    letter, reasons = score_letter, []
    if policy.oos_loss_is_f and inputs.oos_sharpe <= 0.0:
        letter = "F"
        reasons.append(f"loses out of sample: OOS Sharpe {inputs.oos_sharpe:.3g} ≤ 0 → F")
    underpowered = inputs.oos_trades < policy.min_oos_trades
    if underpowered:
        capped = _worse(letter, policy.underpowered_cap)
        reasons.append(
            f"underpowered: {inputs.oos_trades} out-of-sample trades < {policy.min_oos_trades}, "
            f"grade capped at {policy.underpowered_cap}"
            + (f" ({letter} → {capped})" if capped != letter else "")
        )
        letter = capped
    return GradeCard(
        grade=letter,
        score=total,
        score_letter=score_letter,
        underpowered=underpowered,
        oos_trades=inputs.oos_trades,
        criteria=tuple(rows),
        reasons=tuple(reasons),
    )
