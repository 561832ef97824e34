"""The base of every config model, shared by the core config and the agents' own tables."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationInfo


class StrictModel(BaseModel):
    """Base of every config model: unknown keys and mistyped values are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def resolve_path(value: str, info: ValidationInfo) -> Path:
    """Resolve a config path against the config file's folder and require that it exists."""
    base = Path(info.context["base_dir"]) if info.context and "base_dir" in info.context else Path()
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.exists():
        raise ValueError(f"file {str(path)!r} does not exist")
    return path
