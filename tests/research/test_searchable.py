"""Tests for seeker.research.searchable: spaces checked against real config models."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from seeker.core.config_base import StrictModel
from seeker.research.searchable import (
    HARD_CONSTRAINTS,
    apply_point,
    check_space,
    load_space,
)
from seeker.research.space import RangeParam, SearchSpaceError, parse_space
from seeker.strategies.iron_condor.config import IronCondorConfig

SPACES = Path(__file__).parent / "spaces"
ROOT = Path(__file__).parents[2]


class Exits(StrictModel):
    take_profit_pct: float = Field(gt=0.0, le=100.0)
    style: Literal["natural", "mid"]


class Risk(StrictModel):
    max_loss: float = Field(gt=0.0)


class ToyConfig(StrictModel):
    """A strategy config with a nested table, a marked hard constraint and a risk sub-table."""

    lookback_days: int = Field(ge=5, le=60)
    threshold: float
    enabled_sides: list[str]
    exits: Exits
    risk: Risk
    max_gap_pct: float = Field(json_schema_extra={"hard_constraint": True})


def space(params: dict[str, object]) -> object:
    return parse_space({"strategy": "toy", "params": params})


def problems_of(params: dict[str, object], model: type = ToyConfig) -> list[str]:
    with pytest.raises(SearchSpaceError) as caught:
        check_space(space(params), model)  # type: ignore[arg-type]
    return caught.value.problems


def iron_condor() -> IronCondorConfig:
    with (ROOT / "config" / "seeker.toml").open("rb") as fh:
        table = tomllib.load(fh)["strategies"]["iron_condor"]
    return IronCondorConfig.model_validate(table)


def test_example_space_fits_the_real_iron_condor_model() -> None:
    checked = load_space(SPACES / "iron_condor.toml", IronCondorConfig)
    # take_profit_pct is a float field: the int range 40…60 step 5 becomes a float range.
    assert checked.params["take_profit_pct"] == RangeParam(low=40.0, high=60.0, step=5.0)
    assert next(checked.grid())["take_profit_pct"] == 40.0
    assert checked.params["max_open_positions"] == RangeParam(low=1, high=3)


def test_forbidden_example_names_each_hard_constraint() -> None:
    with pytest.raises(SearchSpaceError) as caught:
        load_space(SPACES / "forbidden.toml", IronCondorConfig)
    assert caught.value.problems == [
        "params.quantity: can never be searched: the order size is bounded by the Risk Guard, "
        "not fitted",
        "params.risk.max_per_trade_pct: can never be searched: risk caps are hard constraints "
        "(the 'risk' table)",
    ]


@pytest.mark.parametrize("table", ["risk", "liquidity", "events", "fx"])
def test_hard_constraint_tables_are_never_searched(table: str) -> None:
    (line,) = problems_of({f"{table}.anything": {"low": 1.0, "high": 2.0}})
    assert line.startswith(f"params.{table}.anything: can never be searched")
    assert f"the {table!r} table" in line


def test_a_risk_table_inside_a_strategy_is_a_hard_constraint_too() -> None:
    (line,) = problems_of({"risk.max_loss": {"low": 50.0, "high": 100.0}})
    assert "risk caps are hard constraints" in line


def test_a_field_the_strategy_marks_is_never_searched() -> None:
    (line,) = problems_of({"max_gap_pct": {"low": 1.0, "high": 2.0}})
    assert line == (
        "params.max_gap_pct: can never be searched: ToyConfig marks it as a hard constraint"
    )


def test_extra_hard_fields_can_be_listed() -> None:
    hard = HARD_CONSTRAINTS.with_fields({"threshold": "fixed by the desk"})
    with pytest.raises(SearchSpaceError) as caught:
        check_space(space({"threshold": {"low": 1.0, "high": 2.0}}), ToyConfig, hard)  # type: ignore[arg-type]
    assert caught.value.problems == ["params.threshold: can never be searched: fixed by the desk"]


def test_fields_must_exist_and_fit_their_type() -> None:
    lines = problems_of(
        {
            "lookback": {"low": 5, "high": 10},
            "exits.nope": {"low": 1.0, "high": 2.0},
            "threshold.x": {"low": 1.0, "high": 2.0},
            "lookback_days": {"low": 5.0, "high": 10.0},
            "enabled_sides": {"low": 1, "high": 2},
            "exits.style": {"choices": ["mid", "last"]},
            "exits.take_profit_pct": {"low": 50.0, "high": 150.0, "step": 25.0},
        }
    )
    assert lines == [
        "params.enabled_sides: a low/high range needs a number field (list); use choices",
        "params.exits.nope: not a field of ToyConfig (exits has no field 'nope')",
        "params.exits.style.choices[1]: Input should be 'natural' or 'mid' (got 'last')",
        "params.exits.take_profit_pct.high: Input should be less than or equal to 100 (got 150.0)",
        "params.lookback: not a field of ToyConfig (ToyConfig has no field 'lookback')",
        "params.lookback_days: the field is a whole number: low, high and step must be too",
        "params.threshold.x: not a field of ToyConfig (threshold is not a table)",
    ]


def test_int_bounds_outside_the_field_are_named() -> None:
    (line,) = problems_of({"lookback_days": {"low": 1, "high": 20}})
    assert line == "params.lookback_days.low: Input should be greater than or equal to 5 (got 1)"


def test_list_choices_fit_list_fields() -> None:
    checked = check_space(
        space({"enabled_sides": {"choices": [["put"], ["call"], ["put", "call"]]}}),  # type: ignore[arg-type]
        ToyConfig,
    )
    assert checked.params["enabled_sides"].choices[2] == ("put", "call")  # type: ignore[union-attr]
    (line,) = problems_of({"enabled_sides": {"choices": [["put"], [1.5]]}})
    assert line.startswith("params.enabled_sides.choices[1][0]: Input should be a valid string")


def test_apply_point_sets_fields_and_revalidates_the_whole_config() -> None:
    base = iron_condor()
    checked = load_space(SPACES / "iron_condor.toml", IronCondorConfig)
    point = {
        "exit_on_touch": False,
        "max_open_positions": 2,
        "short_delta_max": 0.17,
        "take_profit_pct": 45.0,
        "wing_widths": (0.5, 1.0),
    }
    tuned = apply_point(base, checked.check_point(point))
    assert isinstance(tuned, IronCondorConfig)
    assert (tuned.exit_on_touch, tuned.max_open_positions) == (False, 2)
    assert (tuned.short_delta_max, tuned.take_profit_pct, tuned.wing_widths) == (
        0.17,
        45.0,
        [0.5, 1.0],
    )
    assert tuned.short_delta_min == base.short_delta_min  # untouched fields keep their value
    assert base.exit_on_touch is True  # the base config is not changed


def test_apply_point_names_a_combination_the_model_refuses() -> None:
    base = iron_condor()  # short_delta_min = 0.10
    with pytest.raises(SearchSpaceError) as caught:
        apply_point(base, {"short_delta_max": 0.08})
    assert caught.value.problems == ["short_delta_max: must be ≥ short_delta_min (0.1) (got 0.08)"]
    with pytest.raises(SearchSpaceError) as caught:
        apply_point(base, {"nope": 1})
    assert caught.value.problems == ["params.nope: not a field of IronCondorConfig"]
