"""Tests for seeker.research.folds: explicit layouts, properties, refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.research.folds import FoldPlan, walk_forward

SESSIONS = tuple(date(2024, 1, 1) + timedelta(days=i) for i in range(20))


def test_rolling_folds_over_dates() -> None:
    plan = FoldPlan(scheme="rolling", n_folds=3, is_length=6, oos_length=3, embargo=1)
    folds = walk_forward(SESSIONS, plan, seeds=[1, 2])
    assert [f.index for f in folds] == [0, 1, 2]
    # OOS: the last 9 sessions in three windows of 3; IS: the 6 sessions before a 1-day gap.
    assert [f.out_of_sample for f in folds] == [SESSIONS[11:14], SESSIONS[14:17], SESSIONS[17:20]]
    assert [f.embargoed for f in folds] == [SESSIONS[10:11], SESSIONS[13:14], SESSIONS[16:17]]
    assert [f.in_sample for f in folds] == [SESSIONS[4:10], SESSIONS[7:13], SESSIONS[10:16]]
    assert all(f.in_sample_seeds == (1, 2) == f.out_of_sample_seeds for f in folds)


def test_anchored_folds_start_on_the_first_session() -> None:
    plan = FoldPlan(scheme="anchored", n_folds=2, is_length=10, oos_length=4, embargo=0)
    folds = walk_forward(SESSIONS, plan, seeds=[7], oos_seeds=[8, 9])
    assert [f.in_sample for f in folds] == [SESSIONS[:12], SESSIONS[:16]]
    assert [f.out_of_sample for f in folds] == [SESSIONS[12:16], SESSIONS[16:20]]
    assert folds[0].embargoed == ()
    assert folds[0].in_sample_seeds == (7,)
    assert folds[0].out_of_sample_seeds == (8, 9)


def test_replay_windows_with_seeds_fold_too() -> None:
    """Items can be (window, seed) pairs: anything strictly ordered."""
    items = [(w, s) for w in ("2023-Q1", "2023-Q2", "2023-Q3") for s in (1, 2)]
    plan = FoldPlan(scheme="rolling", n_folds=1, is_length=4, oos_length=2, embargo=0)
    (fold,) = walk_forward(items, plan, seeds=[0])
    assert fold.out_of_sample == (("2023-Q3", 1), ("2023-Q3", 2))


def test_exactly_enough_sessions_is_enough() -> None:
    plan = FoldPlan(scheme="rolling", n_folds=4, is_length=5, oos_length=3, embargo=3)
    assert plan.items_needed == 20
    folds = walk_forward(SESSIONS, plan, seeds=[1])
    assert folds[0].in_sample == SESSIONS[:5]


@pytest.mark.parametrize(
    ("items", "plan", "seeds", "oos_seeds", "message"),
    [
        (
            SESSIONS,
            FoldPlan(scheme="rolling", n_folds=4, is_length=6, oos_length=3, embargo=3),
            [1],
            None,
            r"needs 21 items \(IS 6 \+ embargo 3 \+ 4 × OOS 3\), got 20",
        ),
        (SESSIONS[::-1], FoldPlan("rolling", 1, 2, 2, 0), [1], None, "strictly increasing"),
        ((*SESSIONS[:3], SESSIONS[2]), FoldPlan("rolling", 1, 2, 1, 0), [1], None, "item 3"),
        (SESSIONS, FoldPlan("rolling", 1, 2, 2, 0), [], None, "at least one seed"),
        (SESSIONS, FoldPlan("rolling", 1, 2, 2, 0), [1, 1], None, "twice"),
        (SESSIONS, FoldPlan("rolling", 1, 2, 2, 0), [-1], None, r"seeds\[0\]"),
        (SESSIONS, FoldPlan("rolling", 1, 2, 2, 0), [1, 2], [2, 3], r"differ.*\[2\]"),
    ],
)
def test_impossible_requests_are_refused(items, plan, seeds, oos_seeds, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        walk_forward(items, plan, seeds, oos_seeds)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scheme": "expanding"}, "scheme"),
        ({"n_folds": 0}, "n_folds"),
        ({"is_length": 0}, "is_length"),
        ({"oos_length": 2.5}, "oos_length"),
        ({"embargo": -1}, "embargo"),
        ({"n_folds": True}, "n_folds"),
    ],
)
def test_bad_plans_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "scheme": "rolling",
        "n_folds": 2,
        "is_length": 5,
        "oos_length": 2,
        "embargo": 1,
    }
    with pytest.raises(ValueError, match=message):
        FoldPlan(**{**args, **kwargs})  # type: ignore[arg-type]


@st.composite
def plans_and_histories(draw: st.DrawFn) -> tuple[FoldPlan, int]:
    plan = FoldPlan(
        scheme=draw(st.sampled_from(["anchored", "rolling"])),
        n_folds=draw(st.integers(1, 8)),
        is_length=draw(st.integers(1, 30)),
        oos_length=draw(st.integers(1, 15)),
        embargo=draw(st.integers(0, 5)),
    )
    return plan, plan.items_needed + draw(st.integers(0, 40))


@settings(deadline=None)
@given(plans_and_histories())
def test_fold_properties(case: tuple[FoldPlan, int]) -> None:
    plan, size = case
    history = list(range(size))
    folds = walk_forward(history, plan, seeds=[3])
    assert len(folds) == plan.n_folds
    # OOS windows tile the tail of the history, in order, each oos_length long.
    tail = [x for f in folds for x in f.out_of_sample]
    assert tail == history[size - plan.n_folds * plan.oos_length :]
    for fold in folds:
        is_set, oos_set = set(fold.in_sample), set(fold.out_of_sample)
        assert not is_set & oos_set
        assert not set(fold.embargoed) & (is_set | oos_set)
        assert len(fold.out_of_sample) == plan.oos_length
        # Embargo respected: exactly `embargo` items between IS end and OOS start, all skipped.
        assert fold.out_of_sample[0] - fold.in_sample[-1] == plan.embargo + 1
        assert len(fold.embargoed) == plan.embargo
        assert max(fold.in_sample) < min(fold.out_of_sample)
        if plan.scheme == "rolling":
            assert len(fold.in_sample) == plan.is_length
        else:
            assert fold.in_sample[0] == history[0]
            assert len(fold.in_sample) >= plan.is_length
        assert list(fold.in_sample) == list(range(fold.in_sample[0], fold.in_sample[-1] + 1))
