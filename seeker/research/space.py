"""The search space of one strategy's own parameters, read from TOML; grid and Optuna views.

A space file names the strategy and one table per searched field of its config::

    strategy = "iron_condor"

    [params.short_delta_max]       # a stepped float range: 0.12, 0.13, … 0.18
    low = 0.12
    high = 0.18
    step = 0.01

    [params.max_open_positions]    # an int range (low, high and step all whole numbers)
    low = 1
    high = 4

    [params.exit_on_touch]         # a choice, in the listed order
    choices = [true, false]

    [params.wing_widths]           # list-valued choices are allowed too
    choices = [[0.5], [1.0], [0.5, 1.0]]

A field of a nested table is written ``[params.<table>.<field>]`` and named ``<table>.<field>``.
A range without `step` is continuous (Optuna only; a grid needs steps). Whether a field exists,
has a compatible type and may be searched at all is checked against the strategy's config model by
`seeker.research.searchable`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from pydantic import Field, PlainValidator, ValidationError, field_validator, model_validator

from seeker.config.loading import ConfigError, dotted, read_toml
from seeker.core.config_base import StrictModel

Scalar = bool | int | float | str
ParamValue = Scalar | tuple[Scalar, ...]
"""A parameter's value: a number from a range, or one of a choice's values (lists as tuples)."""


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _scalar(value: object) -> Scalar:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a choice must be a finite number")
    if not isinstance(value, bool | int | float | str):
        raise ValueError("a choice is true/false, a number, a text, or a list of those")
    return value


def _choice(value: object) -> ParamValue:
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError("a list choice cannot be empty")
        return tuple(_scalar(v) for v in value)
    return _scalar(value)


Number = Annotated[int | float, PlainValidator(_number)]
ChoiceValue = Annotated[ParamValue, PlainValidator(_choice)]

_RANGE_KEYS = frozenset({"low", "high", "step"})


class SearchSpaceError(ConfigError):
    """Raise with every problem of a search space, one dotted key per line (CLI: exit 2)."""


def _decimal(x: float | int) -> Decimal:
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)


class RangeParam(StrictModel):
    """A numeric range [low, high] with an optional step; int when all three are whole numbers."""

    low: Number
    high: Number
    step: Number | None = None

    @model_validator(mode="after")
    def _coherent(self) -> RangeParam:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.step is not None:
            if self.step <= 0:
                raise ValueError(f"step must be positive (got {self.step})")
            span, step = _decimal(self.high) - _decimal(self.low), _decimal(self.step)
            if span % step != 0:
                raise ValueError(
                    f"high − low ({span}) must be a whole number of steps ({step}), "
                    "so that high is on the grid"
                )
        return self

    @property
    def is_int(self) -> bool:
        """Return True when the range holds whole numbers only."""
        return all(isinstance(v, int) for v in (self.low, self.high, self.step or 1))

    @property
    def grid_step(self) -> int | float | None:
        """Return the step between grid values (1 for an int range without step)."""
        return 1 if self.is_int and self.step is None else self.step

    def count(self) -> int:
        """Return how many grid values the range holds; raise ValueError if it is continuous."""
        step = self.grid_step
        if step is None:
            raise ValueError("a continuous range (no step) has no grid")
        return int((_decimal(self.high) - _decimal(self.low)) / _decimal(step)) + 1

    def values(self) -> tuple[int | float, ...]:
        """Return every grid value, ascending; raise ValueError for a continuous range."""
        return tuple(self._at(k) for k in range(self.count()))

    def _at(self, k: int) -> int | float:
        step = self.grid_step
        assert step is not None
        value = _decimal(self.low) + k * _decimal(step)
        return int(value) if self.is_int else float(value)

    def snap(self, x: float) -> int | float:
        """Return `x` clipped to [low, high] and moved to the nearest grid value (if stepped)."""
        clipped = min(max(float(x), float(self.low)), float(self.high))
        step = self.grid_step
        if step is None:
            return clipped
        k = min(max(round((clipped - float(self.low)) / float(step)), 0), self.count() - 1)
        return self._at(k)

    def canonical(self, x: object) -> int | float | None:
        """Return `x` as the range's value if it is one (in bounds, on the grid), else None.

        A value within rounding noise of a grid value returns that grid value.
        """
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            return None
        if self.is_int and not isinstance(x, int):
            return None
        if not float(self.low) <= x <= float(self.high):
            return None
        if self.grid_step is None:
            return float(x)
        snapped = self.snap(x)
        return snapped if math.isclose(snapped, x, rel_tol=1e-9, abs_tol=1e-12) else None


def _tuples(value: object) -> object:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def choice_key(value: ParamValue) -> str:
    """Return a choice's JSON text (``true`` ≠ ``1`` ≠ ``1.0``): how lists travel through Optuna."""
    return json.dumps(value)


class ChoiceParam(StrictModel):
    """A choice among listed values, kept in the listed order."""

    choices: tuple[ChoiceValue, ...]

    @field_validator("choices", mode="before")
    @classmethod
    def _lists_as_tuples(cls, value: object) -> object:
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of choices")
        return _tuples(value)

    @field_validator("choices")
    @classmethod
    def _distinct(cls, value: tuple[ParamValue, ...]) -> tuple[ParamValue, ...]:
        if len(value) < 2:
            raise ValueError("list two choices at least (to fix a value, set it in the config)")
        keys = [choice_key(v) for v in value]
        if len(set(keys)) != len(keys):
            raise ValueError("every choice must be listed once")
        return value

    @property
    def has_lists(self) -> bool:
        """Return True when some choice is a list (Optuna then sees their canonical texts)."""
        return any(isinstance(c, tuple) for c in self.choices)

    def canonical(self, x: object) -> ParamValue | None:
        """Return the choice `x` stands for (a list for a tuple choice), else None.

        Type-exact: ``True`` is not ``1`` and ``1`` is not ``1.0``.
        """
        try:
            key = choice_key(_tuples(x))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return next((c for c in self.choices if choice_key(c) == key), None)


Param = RangeParam | ChoiceParam


class SearchSpace(StrictModel):
    """One strategy's searched parameters, by dotted field name."""

    strategy: str
    params: dict[str, Param] = Field(min_length=1)

    @field_validator("strategy")
    @classmethod
    def _strategy_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValueError("must be a strategy's name: lower case letters, digits and _")
        return value

    @property
    def names(self) -> tuple[str, ...]:
        """Return the parameter names in the order every view uses (sorted)."""
        return tuple(sorted(self.params))

    def grid_size(self) -> int:
        """Return how many points the full grid holds."""
        return math.prod(_axis_size(n, self.params[n]) for n in self.names)

    def grid(self) -> Iterator[dict[str, ParamValue]]:
        """Yield every grid point: names sorted, the last varying fastest, values in order."""
        axes = [_grid_values(n, self.params[n]) for n in self.names]
        for combo in itertools.product(*axes):
            yield dict(zip(self.names, combo, strict=True))

    def optuna_distributions(self) -> dict[str, BaseDistribution]:
        """Return one Optuna distribution per parameter (list choices as their canonical text)."""
        out: dict[str, BaseDistribution] = {}
        for name in self.names:
            p = self.params[name]
            if isinstance(p, ChoiceParam):
                choices = [choice_key(c) for c in p.choices] if p.has_lists else list(p.choices)
                out[name] = CategoricalDistribution(choices)
            elif p.is_int:
                out[name] = IntDistribution(int(p.low), int(p.high), step=int(p.grid_step or 1))
            else:
                step = None if p.step is None else float(p.step)
                out[name] = FloatDistribution(float(p.low), float(p.high), step=step)
        return out

    def from_optuna(self, sampled: Mapping[str, object]) -> dict[str, ParamValue]:
        """Return the point an Optuna trial sampled, with grid-clean numbers and list choices."""
        if set(sampled) != set(self.params):
            raise SearchSpaceError([_mismatch("optuna params", sampled, self.params)])
        point: dict[str, ParamValue] = {}
        for name in self.names:
            p, raw = self.params[name], sampled[name]
            if isinstance(p, ChoiceParam):
                by_key = {choice_key(c): c for c in p.choices}
                value = (
                    by_key.get(raw) if p.has_lists and isinstance(raw, str) else p.canonical(raw)
                )
                if value is None:
                    raise SearchSpaceError([f"params.{name}: {raw!r} is not one of the choices"])
                point[name] = value
            else:
                number = p.canonical(raw)
                if number is None:
                    raise SearchSpaceError([f"params.{name}: {raw!r} is not a value of the range"])
                point[name] = number
        return point

    def check_point(self, point: Mapping[str, object]) -> dict[str, ParamValue]:
        """Return `point` in name order if it sets every parameter to an allowed value."""
        if set(point) != set(self.params):
            raise SearchSpaceError([_mismatch("point", point, self.params)])
        out: dict[str, ParamValue] = {}
        problems: list[str] = []
        for name in self.names:
            value = self.params[name].canonical(point[name])
            if value is None:
                problems.append(f"params.{name}: {point[name]!r} is not an allowed value")
            else:
                out[name] = value
        if problems:
            raise SearchSpaceError(problems)
        return out


def _grid_values(name: str, p: Param) -> tuple[ParamValue, ...]:
    _axis_size(name, p)
    return p.choices if isinstance(p, ChoiceParam) else p.values()


def _axis_size(name: str, p: Param) -> int:
    if isinstance(p, ChoiceParam):
        return len(p.choices)
    if p.grid_step is None:
        raise SearchSpaceError([f"params.{name}: a grid needs a step on every numeric range"])
    return p.count()


def _mismatch(what: str, got: Mapping[str, object], want: Mapping[str, object]) -> str:
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    return f"{what}: missing {missing}, unknown {extra}"


def describe_error(prefix: tuple[str | int, ...], err: Mapping[str, object]) -> str:
    """Return one pydantic error as ``dotted.key: message (got value)``."""
    loc = tuple(p for p in err.get("loc", ()) if not str(p).startswith("function-"))  # type: ignore[union-attr]
    key = dotted((*prefix, *loc))
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    elif err.get("type") == "missing":
        msg = "required key is missing"
    got = err.get("input")
    if isinstance(got, dict | list | tuple):
        return f"{key}: {msg}"
    return f"{key}: {msg} (got {got!r})"


def _leaves(table: Mapping[str, object], path: tuple[str, ...]) -> Iterator[tuple[str, object]]:
    """Yield (dotted name, spec) per parameter: a table of only tables is a group."""
    for key, value in table.items():
        here = (*path, key)
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            if _RANGE_KEYS & value.keys() or "choices" in value:
                yield ".".join(here), value
            else:
                yield from _leaves(value, here)
        else:
            yield ".".join(here), value


def parse_space(data: Mapping[str, object]) -> SearchSpace:
    """Return the SearchSpace of parsed TOML, or raise SearchSpaceError listing every problem."""
    problems = [f"{k}: unknown key" for k in sorted(set(data) - {"strategy", "params"})]
    params: dict[str, Param] = {}
    raw_params = data.get("params")
    if not isinstance(raw_params, dict) or not raw_params:
        problems.append("params: at least one [params.<field>] table is required")
        raw_params = {}
    for name, spec in _leaves(raw_params, ()):
        if not isinstance(spec, dict) or not spec:
            problems.append(f"params.{name}: must be a table with low/high[/step] or choices")
            continue
        model = ChoiceParam if "choices" in spec else RangeParam
        try:
            params[name] = model.model_validate(spec)
        except ValidationError as exc:
            prefix = ("params", *name.split("."))
            problems.extend(describe_error(prefix, e) for e in exc.errors())  # type: ignore[arg-type]
    strategy = data.get("strategy")
    if not isinstance(strategy, str):
        problems.append(f"strategy: the strategy's name is required (got {strategy!r})")
    if problems:
        raise SearchSpaceError(problems)
    try:
        return SearchSpace(strategy=strategy, params=params)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SearchSpaceError([describe_error((), e) for e in exc.errors()]) from None  # type: ignore[arg-type]


def read_space(path: Path) -> SearchSpace:
    """Read and parse the space file at `path` (SearchSpaceError on any problem)."""
    try:
        data = read_toml(path.expanduser())
    except ConfigError as exc:
        raise SearchSpaceError(exc.problems) from None
    return parse_space(data)
