"""Which config fields a search may touch, checked against a strategy's config model.

A search tunes a strategy's own rules, never the hard constraints it runs under: risk caps,
liquidity, event and FX thresholds (the ``risk``, ``liquidity``, ``events`` and ``fx`` tables,
wherever they appear), the run mode, the traded underlyings, the order size, and any field a
strategy marks with ``Field(json_schema_extra={"hard_constraint": True})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from .space import (
    ChoiceParam,
    Param,
    ParamValue,
    RangeParam,
    SearchSpace,
    SearchSpaceError,
    describe_error,
    read_space,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class HardConstraints:
    """Keys no search may touch, each with the reason shown in the error."""

    tables: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)

    def with_fields(self, fields: Mapping[str, str]) -> HardConstraints:
        """Return these constraints plus more forbidden field names (dotted) with reasons."""
        return HardConstraints(tables=dict(self.tables), fields={**self.fields, **fields})

    def reason(self, name: str) -> str | None:
        """Return why the dotted field `name` can never be searched, or None if it can."""
        parts = name.split(".")
        for part in parts:
            if part in self.tables:
                return f"{self.tables[part]} (the {part!r} table)"
        if name in self.fields:
            return self.fields[name]
        return None


HARD_CONSTRAINTS = HardConstraints(
    tables={
        "risk": "risk caps are hard constraints",
        "liquidity": "liquidity thresholds are hard constraints",
        "events": "event-risk buffers are hard constraints",
        "fx": "FX thresholds are hard constraints",
    },
    fields={
        "mode": "the run mode (trade/shadow) is not a strategy rule",
        "underlyings": "the traded underlyings are chosen, not fitted",
        "quantity": "the order size is bounded by the Risk Guard, not fitted",
    },
)


def _field(model: type[BaseModel], name: str) -> FieldInfo:
    current: type[BaseModel] = model
    parts = name.split(".")
    for i, part in enumerate(parts):
        fields = current.model_fields
        if part not in fields:
            where = ".".join(parts[:i]) or model.__name__
            raise KeyError(f"{where} has no field {part!r}")
        info = fields[part]
        if i == len(parts) - 1:
            return info
        nested = info.annotation
        if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
            raise KeyError(f"{'.'.join(parts[: i + 1])} is not a table")
        current = nested
    raise KeyError(name)  # unreachable: the loop returns on the last part


def _adapter(info: FieldInfo) -> TypeAdapter[object]:
    if not info.metadata:
        return TypeAdapter(info.annotation)
    return TypeAdapter(Annotated[info.annotation, *info.metadata])  # type: ignore[name-defined]


def _lists(value: object) -> object:
    if isinstance(value, tuple):
        return [_lists(v) for v in value]
    return value


def _marked_hard(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("hard_constraint") is True


def _bind(name: str, param: Param, info: FieldInfo) -> tuple[Param, list[str]]:
    """Return the parameter fitted to the field's type, and the problems found."""
    key = f"params.{name}"
    loc = ("params", *name.split("."))
    adapter = _adapter(info)
    if isinstance(param, ChoiceParam):
        problems: list[str] = []
        for i, choice in enumerate(param.choices):
            try:
                adapter.validate_python(_lists(choice), strict=True)
            except ValidationError as exc:
                problems.extend(describe_error((*loc, "choices", i), e) for e in exc.errors())  # type: ignore[arg-type]
        return param, problems
    if info.annotation not in (int, float):
        kind = getattr(info.annotation, "__name__", str(info.annotation))
        return param, [f"{key}: a low/high range needs a number field ({kind}); use choices"]
    if info.annotation is int and not param.is_int:
        return param, [f"{key}: the field is a whole number: low, high and step must be too"]
    if info.annotation is float and param.is_int:
        step = None if param.step is None else float(param.step)
        param = RangeParam(low=float(param.low), high=float(param.high), step=step)
    problems = []
    for end in ("low", "high"):
        try:
            adapter.validate_python(getattr(param, end), strict=True)
        except ValidationError as exc:
            problems.extend(describe_error((*loc, end), e) for e in exc.errors())  # type: ignore[arg-type]
    return param, problems


def check_space(
    space: SearchSpace,
    config_model: type[BaseModel],
    hard: HardConstraints = HARD_CONSTRAINTS,
) -> SearchSpace:
    """Return `space` fitted to the strategy's config model, or raise SearchSpaceError.

    Every parameter must name a field of `config_model` (dotted for nested tables) that no hard
    constraint covers; a range needs an int or float field (an int range on a float field becomes
    a float range), and its bounds and every choice must be values the field accepts.
    """
    problems: list[str] = []
    bound: dict[str, Param] = {}
    for name in space.names:
        why = hard.reason(name)
        if why is not None:
            problems.append(f"params.{name}: can never be searched: {why}")
            continue
        try:
            info = _field(config_model, name)
        except KeyError as exc:
            model_name = config_model.__name__
            problems.append(f"params.{name}: not a field of {model_name} ({exc.args[0]})")
            continue
        if _marked_hard(info):
            problems.append(
                f"params.{name}: can never be searched: {config_model.__name__} marks it as a "
                "hard constraint"
            )
            continue
        bound[name], found = _bind(name, space.params[name], info)
        problems.extend(found)
    if problems:
        raise SearchSpaceError(problems)
    return SearchSpace(strategy=space.strategy, params=bound)


def apply_point(config: M, point: Mapping[str, ParamValue]) -> M:
    """Return a copy of the strategy `config` with the point's fields set, fully re-validated.

    Raise SearchSpaceError when the combination breaks one of the model's rules (for example a
    minimum above its maximum), naming the keys.
    """
    data = config.model_dump()
    for name, value in point.items():
        table = data
        *parents, last = name.split(".")
        for part in parents:
            table = table[part]
        if last not in table:
            raise SearchSpaceError([f"params.{name}: not a field of {type(config).__name__}"])
        table[last] = _lists(value)
    try:
        return type(config).model_validate(data)
    except ValidationError as exc:
        raise SearchSpaceError([describe_error((), e) for e in exc.errors()]) from None  # type: ignore[arg-type]


def load_space(
    path: Path, config_model: type[BaseModel], hard: HardConstraints = HARD_CONSTRAINTS
) -> SearchSpace:
    """Read the space file at `path` and check it against `config_model` (SearchSpaceError)."""
    return check_space(read_space(path), config_model, hard)
