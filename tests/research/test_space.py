"""Tests for seeker.research.space: reading space files, grid order, Optuna round trips."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from seeker.config.loading import ConfigError
from seeker.research.space import (
    ChoiceParam,
    RangeParam,
    SearchSpace,
    SearchSpaceError,
    parse_space,
    read_space,
)

SPACES = Path(__file__).parent / "spaces"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_file_reads_every_kind_of_parameter() -> None:
    space = read_space(SPACES / "iron_condor.toml")
    assert space.strategy == "iron_condor"
    assert space.names == (
        "exit_on_touch",
        "max_open_positions",
        "short_delta_max",
        "take_profit_pct",
        "wing_widths",
    )
    assert space.params["short_delta_max"] == RangeParam(low=0.12, high=0.18, step=0.01)
    assert space.params["max_open_positions"].is_int  # type: ignore[union-attr]
    assert space.params["take_profit_pct"].is_int  # type: ignore[union-attr]  # until checked
    assert space.params["wing_widths"] == ChoiceParam(choices=((0.5,), (1.0,), (0.5, 1.0)))


def test_grid_is_every_combination_in_a_fixed_order() -> None:
    space = read_space(SPACES / "iron_condor.toml")
    points = list(space.grid())
    assert space.grid_size() == len(points) == 2 * 3 * 7 * 5 * 3
    assert points[0] == {
        "exit_on_touch": True,
        "max_open_positions": 1,
        "short_delta_max": 0.12,
        "take_profit_pct": 40,
        "wing_widths": (0.5,),
    }
    assert points[1]["wing_widths"] == (1.0,)  # the last name varies fastest
    assert points[-1]["exit_on_touch"] is False
    assert [p["short_delta_max"] for p in points[::15][:7]] == [
        0.12,
        0.13,
        0.14,
        0.15,
        0.16,
        0.17,
        0.18,
    ]  # clean decimal values, no 0.13000000000000003
    assert list(space.grid()) == points


def test_optuna_distributions_and_a_real_study_round_trip() -> None:
    space = read_space(SPACES / "iron_condor.toml")
    dists = space.optuna_distributions()
    assert dists["short_delta_max"] == FloatDistribution(0.12, 0.18, step=0.01)
    assert dists["max_open_positions"] == IntDistribution(1, 3, step=1)
    assert dists["exit_on_touch"] == CategoricalDistribution([True, False])
    assert dists["wing_widths"] == CategoricalDistribution(["[0.5]", "[1.0]", "[0.5, 1.0]"])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    seen = set()
    for _ in range(30):
        trial = study.ask(dists)
        point = space.from_optuna(trial.params)
        assert space.check_point(point) == point
        seen.add(point["wing_widths"])
        study.tell(trial, 0.0)
    assert seen == {(0.5,), (1.0,), (0.5, 1.0)}


def test_continuous_range_goes_to_optuna_but_not_to_a_grid(tmp_path: Path) -> None:
    space = read_space(write(tmp_path, 'strategy = "x"\n[params.a]\nlow = 0.5\nhigh = 2.5\n'))
    assert space.optuna_distributions()["a"] == FloatDistribution(0.5, 2.5)
    assert space.from_optuna({"a": 1.2345}) == {"a": 1.2345}
    with pytest.raises(SearchSpaceError, match=re.escape("params.a: a grid needs a step")):
        space.grid_size()


def test_nested_tables_name_their_fields_with_dots(tmp_path: Path) -> None:
    space = read_space(
        write(
            tmp_path,
            'strategy = "x"\n[params.exits.take_profit_pct]\nlow = 30\nhigh = 60\nstep = 10\n',
        )
    )
    assert space.names == ("exits.take_profit_pct",)
    assert space.params["exits.take_profit_pct"].values() == (30, 40, 50, 60)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        ("[params.a]\nlow = 1\nhigh = 2\n", ["strategy: the strategy's name is required"]),
        ('strategy = "x"\n', ["params: at least one [params.<field>] table is required"]),
        ('strategy = "x"\nseed = 3\n[params.a]\nchoices = [1, 2]\n', ["seed: unknown key"]),
        (
            'strategy = "Bad Name"\n[params.a]\nchoices = [1, 2]\n',
            ["strategy: must be a strategy's name"],
        ),
        ('strategy = "x"\n[params.a]\nlow = 1\n', ["params.a.high: required key is missing"]),
        ('strategy = "x"\n[params.a]\nlow = 2\nhigh = 1\n', ["params.a: low (2) must be below"]),
        (
            'strategy = "x"\n[params.a]\nlow = 0.1\nhigh = 0.5\nstep = 0.15\n',
            ["params.a: high − low (0.4) must be a whole number of steps (0.15)"],
        ),
        ('strategy = "x"\n[params.a]\nlow = 1\nhigh = 3\nstep = 0\n', ["step must be positive"]),
        ('strategy = "x"\n[params.a]\nlow = 1\nhigh = inf\n', ["params.a.high"]),
        ('strategy = "x"\n[params.a]\nlow = true\nhigh = 3\n', ["params.a.low"]),
        ('strategy = "x"\n[params.a]\nlow = 1\nhigh = 3\nlog = true\n', ["params.a.log: unknown"]),
        (
            'strategy = "x"\n[params.a]\nchoices = [1]\n',
            ["params.a.choices: list two choices at least"],
        ),
        ('strategy = "x"\n[params.a]\nchoices = [1, 1]\n', ["every choice must be listed once"]),
        ('strategy = "x"\n[params.a]\n', ["params.a: must be a table with low/high"]),
        ('strategy = "x"\n[params.a]\nchoices = 3\n', ["params.a.choices: must be a list"]),
        (
            'strategy = "x"\n[params.a]\nchoices = [[1, "a"], {b = 1}, [], nan]\n',
            [
                "params.a.choices[1]: a choice is true/false, a number, a text",
                "params.a.choices[2]: a list choice cannot be empty",
                "params.a.choices[3]: a choice must be a finite number",
            ],
        ),
        ('strategy = "x"\n[params.a]\nlow = 1\nhigh = nan\n', ["params.a.high: must be a finite"]),
        (
            'strategy = "x"\n[params.a]\nlow = 1\n[params.b]\nchoices = [2]\n',
            [
                "params.a.high: required key is missing",
                "params.b.choices: list two choices at least",
            ],
        ),
    ],
)
def test_every_problem_is_named_by_its_key(tmp_path: Path, text: str, messages: list[str]) -> None:
    with pytest.raises(SearchSpaceError) as caught:
        read_space(write(tmp_path, text))
    assert isinstance(caught.value, ConfigError)  # the CLI's exit-2 path
    for message in messages:
        assert any(message in line for line in caught.value.problems), caught.value.problems


def test_true_one_and_one_point_zero_are_three_different_choices() -> None:
    space = parse_space({"strategy": "x", "params": {"a": {"choices": [True, 1, 1.0, "1"]}}})
    assert space.check_point({"a": 1}) == {"a": 1}
    assert space.check_point({"a": True}) == {"a": True}
    assert space.from_optuna({"a": 1.0}) == {"a": 1.0}
    with pytest.raises(SearchSpaceError, match=re.escape("params.a: 2 is not one of the choices")):
        space.from_optuna({"a": 2})


def test_missing_and_broken_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError, match="not found"):
        read_space(tmp_path / "nope.toml")
    with pytest.raises(SearchSpaceError, match="not valid TOML"):
        read_space(write(tmp_path, "strategy = \n"))


def test_points_must_set_every_parameter_to_an_allowed_value() -> None:
    space = read_space(SPACES / "iron_condor.toml")
    good = next(space.grid())
    with pytest.raises(SearchSpaceError, match=r"missing \['wing_widths'\], unknown \['x'\]"):
        space.check_point({**{k: v for k, v in good.items() if k != "wing_widths"}, "x": 1})
    with pytest.raises(SearchSpaceError, match=re.escape("params.short_delta_max: 0.125")):
        space.check_point({**good, "short_delta_max": 0.125})
    with pytest.raises(SearchSpaceError, match=re.escape("params.max_open_positions: 2.0")):
        space.check_point({**good, "max_open_positions": 2.0})
    assert space.check_point({**good, "short_delta_max": 0.13000000000000003}) == {
        **good,
        "short_delta_max": 0.13,
    }
    assert space.check_point({**good, "wing_widths": [0.5, 1.0]})["wing_widths"] == (0.5, 1.0)


@st.composite
def ranges(draw: st.DrawFn) -> RangeParam:
    if draw(st.booleans()):
        low = draw(st.integers(-50, 50))
        step = draw(st.integers(1, 5))
        return RangeParam(low=low, high=low + step * draw(st.integers(1, 20)), step=step)
    low = draw(st.sampled_from([-1.5, 0.0, 0.05, 0.1, 2.0]))
    step = draw(st.sampled_from([0.01, 0.05, 0.25, 0.5]))
    count = draw(st.integers(1, 30))
    return RangeParam(low=low, high=float(f"{low + step * count:.6f}"), step=step)


@settings(deadline=None)
@given(ranges(), st.floats(-1e3, 1e3))
def test_snapping_lands_on_an_allowed_value_next_to_the_input(r: RangeParam, x: float) -> None:
    snapped = r.snap(x)
    assert r.canonical(snapped) == snapped
    assert snapped in r.values()
    step = float(r.grid_step)  # type: ignore[arg-type]
    clipped = min(max(x, float(r.low)), float(r.high))
    assert abs(snapped - clipped) <= step / 2 + 1e-9


@settings(deadline=None)
@given(ranges())
def test_grid_values_are_ascending_allowed_and_end_on_high(r: RangeParam) -> None:
    values = r.values()
    assert values[0] == r.low and values[-1] == r.high
    assert all(a < b for a, b in itertools.pairwise(values))
    assert all(r.canonical(v) == v for v in values)
    space = SearchSpace(strategy="x", params={"p": r})
    assert [p["p"] for p in space.grid()] == list(values)
