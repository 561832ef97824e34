"""Tests for seeker.research.stability: the neighbours of a point and how the objective held."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.research.space import (
    ChoiceParam,
    RangeParam,
    SearchSpace,
    SearchSpaceError,
    read_space,
)
from seeker.research.stability import Perturbation, assess_stability, perturb

SPACES = Path(__file__).parent / "spaces"


def test_neighbours_of_a_chosen_iron_condor_point() -> None:
    space = read_space(SPACES / "iron_condor.toml")
    chosen = {
        "exit_on_touch": True,
        "max_open_positions": 2,
        "short_delta_max": 0.14,
        "take_profit_pct": 50,
        "wing_widths": (1.0,),
    }
    hood = perturb(space, chosen)
    moves = [(p.param, p.shift, p.value) for p in hood.points]
    assert moves == [
        ("exit_on_touch", "next choice", False),
        # 0.14 × 0.8 = 0.112 → clipped to 0.12; × 0.9 = 0.126 → 0.13; × 1.1 → 0.15; × 1.2 → 0.17
        ("short_delta_max", "-20%", 0.12),
        ("short_delta_max", "-10%", 0.13),
        ("short_delta_max", "+10%", 0.15),
        ("short_delta_max", "+20%", 0.17),
        ("take_profit_pct", "-20%", 40),
        ("take_profit_pct", "-10%", 45),
        ("take_profit_pct", "+10%", 55),
        ("take_profit_pct", "+20%", 60),
        ("wing_widths", "previous choice", (0.5,)),
        ("wing_widths", "next choice", (0.5, 1.0)),
    ]
    # 2 ± 20 % rounds back to 2 on a grid of whole positions: nothing to test there.
    assert hood.untested == ("max_open_positions",)
    for p in hood.points:
        assert p.point == {**hood.chosen, p.param: p.value}


def test_bounds_clip_and_swallow_moves() -> None:
    space = SearchSpace(strategy="x", params={"a": RangeParam(low=10, high=20, step=1)})
    hood = perturb(space, {"a": 20})
    assert [(p.shift, p.value) for p in hood.points] == [("-20%", 16), ("-10%", 18)]


def test_a_zero_value_moves_by_a_share_of_the_range() -> None:
    space = SearchSpace(strategy="x", params={"a": RangeParam(low=-1.0, high=1.0, step=0.1)})
    hood = perturb(space, {"a": 0.0})
    assert [p.value for p in hood.points] == [-0.4, -0.2, 0.2, 0.4]


def test_continuous_ranges_are_only_clipped() -> None:
    space = SearchSpace(strategy="x", params={"a": RangeParam(low=0.0, high=1.0)})
    hood = perturb(space, {"a": 0.9})
    assert [p.value for p in hood.points] == pytest.approx([0.72, 0.81, 0.99, 1.0])


def test_bad_points_and_shifts_are_refused() -> None:
    space = SearchSpace(strategy="x", params={"a": RangeParam(low=0, high=10)})
    with pytest.raises(SearchSpaceError, match=r"params\.a: 11 is not an allowed value"):
        perturb(space, {"a": 11})
    with pytest.raises(ValueError, match="shifts"):
        perturb(space, {"a": 5}, shifts=(0.0,))


def fake(param: str, shift: str) -> Perturbation:
    return Perturbation(param=param, shift=shift, value=0, point={param: 0})


def test_scores_share_kept_and_worst_drop() -> None:
    evaluated = [
        (fake("a", "-10%"), 1.9),
        (fake("a", "+10%"), 1.5),
        (fake("b", "-10%"), 2.2),
        (fake("b", "+10%"), 0.4),
    ]
    report = assess_stability(2.0, evaluated, keep_ratio=0.8, untested=("c",))
    assert report.n_points == 4
    assert [s.kept for s in report.points] == [True, False, True, False]
    assert report.kept_share == 0.5
    assert report.worst_relative_drop == pytest.approx(0.8)
    assert report.worst == evaluated[3][0]
    assert [s.relative_change for s in report.points] == pytest.approx([-0.05, -0.25, 0.1, -0.8])
    assert report.untested == ("c",)


def test_a_negative_objective_keeps_if_it_loses_little_more() -> None:
    evaluated = [(fake("a", "-10%"), -1.1), (fake("a", "+10%"), -1.3)]
    report = assess_stability(-1.0, evaluated, keep_ratio=0.8)
    assert [s.kept for s in report.points] == [True, False]
    assert report.worst_relative_drop == pytest.approx(0.3)


def test_no_worse_neighbour_means_no_drop() -> None:
    report = assess_stability(1.0, [(fake("a", "+10%"), 1.2)], keep_ratio=0.9)
    assert (report.kept_share, report.worst_relative_drop, report.worst) == (1.0, 0.0, None)


@pytest.mark.parametrize(
    ("chosen", "evaluated", "keep", "message"),
    [
        (0.0, [(fake("a", "+10%"), 1.0)], 0.8, "non-zero objective"),
        (1.0, [], 0.8, "one neighbour at least"),
        (1.0, [(fake("a", "+10%"), 1.0)], 0.0, "keep_ratio"),
        (1.0, [(fake("a", "+10%"), float("nan"))], 0.8, r"objective at a \+10% is not finite"),
    ],
)
def test_unscorable_input_is_refused(chosen, evaluated, keep, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        assess_stability(chosen, evaluated, keep_ratio=keep)


@st.composite
def spaces_and_points(draw: st.DrawFn) -> tuple[SearchSpace, dict[str, object]]:
    params: dict[str, RangeParam | ChoiceParam] = {}
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["int", "float", "choice"]))
        if kind == "int":
            low = draw(st.integers(-20, 20))
            params[f"p{i}"] = RangeParam(low=low, high=low + draw(st.integers(1, 40)))
        elif kind == "float":
            low = draw(st.sampled_from([-2.0, 0.0, 0.05, 1.0]))
            step = draw(st.sampled_from([0.01, 0.05, 0.5]))
            high = float(f"{low + step * draw(st.integers(1, 40)):.6f}")
            params[f"p{i}"] = RangeParam(low=low, high=high, step=step)
        else:
            n = draw(st.integers(2, 5))
            params[f"p{i}"] = ChoiceParam(choices=tuple(f"c{j}" for j in range(n)))
    space = SearchSpace(strategy="x", params=params)
    point = {}
    for name, p in params.items():
        values = p.choices if isinstance(p, ChoiceParam) else p.values()
        point[name] = draw(st.sampled_from(values))
    return space, point


@settings(deadline=None)
@given(spaces_and_points())
def test_every_neighbour_moves_one_parameter_to_an_allowed_new_value(
    case: tuple[SearchSpace, dict[str, object]],
) -> None:
    space, chosen = case
    hood = perturb(space, chosen)
    seen = set()
    for p in hood.points:
        assert space.check_point(p.point) == p.point
        changed = [n for n in space.names if p.point[n] != hood.chosen[n]]
        assert changed == [p.param]
        assert (p.param, p.value) not in seen
        seen.add((p.param, p.value))
    moved = {p.param for p in hood.points}
    assert moved.isdisjoint(hood.untested)
    assert moved | set(hood.untested) == set(space.names)
