"""The base of every config model (each domain owns its table) and the types they share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo


class StrictModel(BaseModel):
    """Base of every config model: unknown keys, mistyped values and inf/NaN are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


Pct = Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False)]
"""A percentage in (0, 100] (10 means 10 %)."""
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""A finite float above zero."""


def resolve_path(value: str, info: ValidationInfo) -> Path:
    """Resolve a config path against the config file's folder and require that it exists."""
    base = Path(info.context["base_dir"]) if info.context and "base_dir" in info.context else Path()
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.exists():
        raise ValueError(f"file {str(path)!r} does not exist")
    return path


def existing_file(value: object, info: ValidationInfo) -> Path:
    """Return a config path (a string) resolved as `resolve_path` does, and require a file."""
    if not isinstance(value, str):
        raise ValueError("expected a file path (string)")
    path = resolve_path(value, info)
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a file")
    return path
