"""Tests for seeker.research.grade: robust and overfit candidates, the underpowered cap, policy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seeker.research.folds import FoldPlan, walk_forward
from seeker.research.grade import (
    DEFAULT_POLICY,
    LETTERS,
    CriterionRule,
    GradeInputs,
    LetterCutoffs,
    grade,
)
from seeker.research.sharpe import annualise_sharpe, deflate_returns, sharpe_ratio
from seeker.research.space import RangeParam, SearchSpace
from seeker.research.stability import assess_stability, perturb

ROBUST = GradeInputs(
    oos_sharpe=1.4,
    is_sharpe=1.8,
    fold_oos_results=(120.0, 45.0, -10.0, 80.0, 60.0),
    dsr=0.97,
    stability_kept_share=0.92,
    oos_trades=85,
)


def test_a_robust_candidate_gets_an_a_and_the_card_shows_every_figure() -> None:
    card = grade(ROBUST)
    assert card.grade == card.score_letter == "A"
    assert card.score == pytest.approx(1.0)
    assert not card.underpowered and card.reasons == ()
    rows = {c.name: c for c in card.criteria}
    assert list(rows) == ["oos_sharpe", "consistency", "oos_is_ratio", "dsr", "stability"]
    assert rows["consistency"].raw == pytest.approx(0.8)
    assert rows["consistency"].note == "4/5 folds positive"
    assert rows["oos_is_ratio"].raw == pytest.approx(1.4 / 1.8)
    assert sum(c.weight for c in card.criteria) == pytest.approx(1.0)
    text = "\n".join(card.lines())
    for c in card.criteria:
        assert c.name in text and f"{c.weight:.2f}" in text and f"{c.score:.2f}" in text
    assert "0 at ≤ 0.5, 1 at ≥ 0.95" in text
    assert text.splitlines()[-1] == "score 1.000 → A; grade A"


def test_scores_ramp_linearly_between_the_thresholds() -> None:
    card = grade(
        dataclasses.replace(
            ROBUST,
            oos_sharpe=0.5,  # (0.5 − 0) / (1 − 0) = 0.5
            fold_oos_results=(1.0, 1.0, -1.0, -1.0),  # 0.5 → (0.5 − 0.4) / 0.4 = 0.25
            is_sharpe=1.0,  # ratio 0.5 → (0.5 − 0.1) / 0.5 = 0.8
            dsr=0.725,  # (0.725 − 0.5) / 0.45 = 0.5
            stability_kept_share=None,  # not measured → 0
        )
    )
    scores = {c.name: c.score for c in card.criteria}
    assert scores == pytest.approx(
        {"oos_sharpe": 0.5, "consistency": 0.25, "oos_is_ratio": 0.8, "dsr": 0.5, "stability": 0}
    )
    want = 0.25 * 0.5 + 0.2 * 0.25 + 0.15 * 0.8 + 0.25 * 0.5
    assert card.score == pytest.approx(want)
    assert card.grade == "D"  # 0.42
    assert {c.name: c.note for c in card.criteria}["stability"] == "not measured"


def test_fewer_than_30_oos_trades_is_underpowered_and_never_an_a() -> None:
    card = grade(dataclasses.replace(ROBUST, oos_trades=12))
    assert card.score_letter == "A"
    assert card.grade == "B"
    assert card.underpowered
    assert card.reasons == (
        "underpowered: 12 out-of-sample trades < 30, grade capped at B (A → B)",
    )
    assert card.lines()[-1] == "  " + card.reasons[0]


def test_an_underpowered_c_stays_c_but_still_says_so() -> None:
    card = grade(dataclasses.replace(ROBUST, oos_trades=29, dsr=0.5, stability_kept_share=0.5))
    assert card.grade == card.score_letter == "C"
    assert card.reasons == ("underpowered: 29 out-of-sample trades < 30, grade capped at B",)


def test_losing_out_of_sample_is_an_f_whatever_the_rest() -> None:
    card = grade(dataclasses.replace(ROBUST, oos_sharpe=-0.1))
    assert card.grade == "F"
    assert card.reasons[0] == "loses out of sample: OOS Sharpe -0.1 ≤ 0 → F"
    assert {c.name: c.note for c in card.criteria}["oos_is_ratio"] == "IS Sharpe 1.8"
    no_is = grade(dataclasses.replace(ROBUST, is_sharpe=-0.2))
    ratio = {c.name: c for c in no_is.criteria}["oos_is_ratio"]
    assert (ratio.raw, ratio.score, ratio.note) == (None, 0.0, "IS Sharpe ≤ 0: no ratio")


def test_a_deliberately_overfit_candidate_grades_f() -> None:
    """Pick the best of 200 pure-noise variants in sample; grade it on fresh noise."""
    rng = np.random.default_rng(0)
    n_variants, days = 200, 250
    in_sample = rng.normal(0.0, 0.01, (n_variants, days))
    out_of_sample = rng.normal(0.0, 0.01, (n_variants, days))
    is_sharpes = np.array([sharpe_ratio(r) for r in in_sample])
    best = int(np.argmax(is_sharpes))

    deflated = deflate_returns(in_sample[best], is_sharpes)
    folds = walk_forward(
        range(2 * days),
        FoldPlan(scheme="rolling", n_folds=5, is_length=days, oos_length=50, embargo=0),
        seeds=[0],
    )
    oos = out_of_sample[best]
    fold_results = tuple(float(oos[[d - days for d in f.out_of_sample]].sum()) for f in folds)
    space = SearchSpace(strategy="noise", params={"variant": RangeParam(low=0, high=199)})
    hood = perturb(space, {"variant": best})
    stability = assess_stability(
        float(is_sharpes[best]),
        [(p, float(is_sharpes[p.value])) for p in hood.points],  # type: ignore[index]
        keep_ratio=0.8,
    )
    inputs = GradeInputs(
        oos_sharpe=annualise_sharpe(sharpe_ratio(oos), days),
        is_sharpe=annualise_sharpe(float(is_sharpes[best]), days),
        fold_oos_results=fold_results,
        dsr=deflated.dsr,
        stability_kept_share=stability.kept_share,
        oos_trades=days,
    )
    # Great in sample, a coin flip out of sample, and a DSR that sees through the selection.
    assert inputs.is_sharpe > 2.5
    assert inputs.is_sharpe > 4 * inputs.oos_sharpe
    assert deflated.dsr < 0.5
    assert stability.kept_share == 0.0
    card = grade(inputs)
    assert card.grade == "F"
    assert card.score < DEFAULT_POLICY.cutoffs.d  # F on the score alone, not only on a rule
    assert not card.underpowered


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dsr": 1.2}, "dsr is a probability"),
        ({"oos_sharpe": float("nan")}, "oos_sharpe must be a finite"),
        ({"fold_oos_results": ()}, "one result per fold"),
        ({"fold_oos_results": (1.0, float("inf"))}, "every fold"),
        ({"stability_kept_share": 1.5}, "stability_kept_share"),
        ({"oos_trades": -1}, "oos_trades"),
    ],
)
def test_bad_evidence_is_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grade(dataclasses.replace(ROBUST, **change))  # type: ignore[arg-type]


def test_policies_are_checked() -> None:
    with pytest.raises(ValidationError, match="weights must add up to 1"):
        DEFAULT_POLICY.model_validate(
            {
                **DEFAULT_POLICY.model_dump(),
                "dsr": {"zero_at": 0.5, "full_at": 0.95, "weight": 0.5},
            }
        )
    with pytest.raises(ValidationError, match="full_at"):
        CriterionRule(zero_at=1.0, full_at=1.0, weight=0.2)
    with pytest.raises(ValidationError, match="fall strictly"):
        LetterCutoffs(a=0.8, b=0.8, c=0.5, d=0.4)
    with pytest.raises(ValidationError, match="extra"):
        DEFAULT_POLICY.model_validate({**DEFAULT_POLICY.model_dump(), "bonus": 1})


evidence = st.builds(
    GradeInputs,
    oos_sharpe=st.floats(-3.0, 4.0),
    is_sharpe=st.floats(-3.0, 5.0),
    fold_oos_results=st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=10).map(tuple),
    dsr=st.floats(0.0, 1.0),
    stability_kept_share=st.none() | st.floats(0.0, 1.0),
    oos_trades=st.integers(0, 500),
)


@settings(deadline=None)
@given(evidence)
def test_grade_never_beats_its_score_and_underpowered_is_never_a(inputs: GradeInputs) -> None:
    card = grade(inputs)
    assert 0.0 <= card.score <= 1.0
    assert LETTERS.index(card.grade) >= LETTERS.index(card.score_letter)
    if inputs.oos_trades < 30:
        assert card.grade != "A" and card.underpowered
    if inputs.oos_sharpe <= 0.0:
        assert card.grade == "F"


@settings(deadline=None)
@given(
    evidence,
    st.sampled_from(["oos_sharpe", "dsr", "stability_kept_share", "fold", "oos_trades"]),
    st.floats(0.0, 1.0),
)
def test_better_evidence_never_lowers_the_grade(inputs: GradeInputs, what: str, x: float) -> None:
    if what == "oos_sharpe":
        better = dataclasses.replace(inputs, oos_sharpe=inputs.oos_sharpe + x)
    elif what == "dsr":
        better = dataclasses.replace(inputs, dsr=inputs.dsr + x * (1.0 - inputs.dsr))
    elif what == "stability_kept_share":
        share = inputs.stability_kept_share or 0.0
        better = dataclasses.replace(inputs, stability_kept_share=share + x * (1.0 - share))
    elif what == "fold":
        folds = (abs(inputs.fold_oos_results[0]) + 1.0, *inputs.fold_oos_results[1:])
        better = dataclasses.replace(inputs, fold_oos_results=folds)
    else:
        better = dataclasses.replace(inputs, oos_trades=inputs.oos_trades + int(x * 100))
    before, after = grade(inputs), grade(better)
    assert after.score >= before.score - 1e-12
    assert LETTERS.index(after.grade) <= LETTERS.index(before.grade)
