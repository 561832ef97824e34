"""Controlled editing of the parameters (spec "Paramètres … (édition contrôlée)").

An edit names dotted keys of the hard thresholds (``risk``, ``liquidity``, ``events``, ``fx``)
and their new values as text. It is parsed as TOML values of the key's current type, applied to
the config file's own text (``tomlkit`` keeps its comments and layout), and the whole result is
validated by the same models as ``seeker run`` — so a half-valid config is never written. A valid
edit is shown as a diff; written, it becomes a NEW file beside the others (the running config is
never touched), journaled in ``<data dir>/config_edits.jsonl``, and takes effect when Seeker is
next started with it (``seeker run --config <new file>``).
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from seeker.config.loading import ConfigError, validate_config
from seeker.config.strategy import StrategyConfig
from seeker.core.journal import JsonlWriter

EDITABLE_TABLES = ("risk", "liquidity", "events", "fx")
"""The tables the page edits: hard thresholds, sector/cluster caps, event and FX rules."""

EDITS_FILE = "config_edits.jsonl"

Scalar = str | int | float | bool
Value = Scalar | list[Scalar] | list[list[Scalar]]


@dataclass(frozen=True)
class Change:
    """One key's old and new value."""

    key: str
    old: Any
    new: Any


@dataclass
class Preview:
    """What an edit would write: the changes, the diff, the new text, or the problems."""

    source: Path
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    diff: str = ""
    text: str = ""

    @property
    def ok(self) -> bool:
        """Return True when the edit is valid and changes something."""
        return not self.problems and bool(self.changes)

    @property
    def digest(self) -> str:
        """Return the SHA-256 of the new text (the write checks it is what was previewed)."""
        return hashlib.sha256(self.text.encode()).hexdigest()


def editable(source_text: str) -> list[tuple[str, str, Any]]:
    """Return (table, key, current value) of every editable key of a config text."""
    data = tomllib.loads(source_text)
    out = []
    for table in EDITABLE_TABLES:
        values = data.get(table)
        if not isinstance(values, dict):
            continue
        out.extend((table, key, value) for key, value in values.items() if _plain(value))
    return out


def _plain(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool)):
        return True
    return isinstance(value, list) and all(_plain(v) and not isinstance(v, dict) for v in value)


def parse_value(key: str, text: str, current: Any) -> tuple[Value | None, str | None]:
    """Return the value a text means for a key whose current value is `current`, or a problem.

    Numbers, booleans and lists are read as TOML values; a string key takes the text as it is
    (quotes optional). A float key accepts an integer; NaN and infinities are refused.
    """
    raw = text.strip()
    if isinstance(current, str):
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        return raw, None
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return None, f"{key}: {text!r} is not a value of the key's type ({_kind(current)})"
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"{key}: must be a finite number (got {text.strip()!r})"
    if type(value) is not type(current):
        return None, f"{key}: expected {_kind(current)}, got {_kind(value)} ({text.strip()!r})"
    return value, None


def _kind(value: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(
        type(value), "a list" if isinstance(value, list) else type(value).__name__
    )


def preview(
    source: Path,
    edits: Mapping[str, str],
    strategy_models: Mapping[str, type[StrategyConfig]],
    base_dir: Path,
) -> Preview:
    """Return what writing `edits` (dotted key → text) into a copy of `source` would give.

    The new text is validated as a whole, as if it were loaded from `base_dir` (where it will be
    written); each problem names its dotted key.
    """
    out = Preview(source)
    try:
        source_text = source.read_text()
        doc = tomlkit.parse(source_text)
    except (OSError, TOMLKitError) as exc:
        out.problems.append(f"{source}: cannot read the config: {exc}")
        return out
    current = {f"{t}.{k}": v for t, k, v in editable(source_text)}
    for key, text in sorted(edits.items()):
        if key not in current:
            out.problems.append(
                f"{key}: not an editable key (the tables: {', '.join(EDITABLE_TABLES)})"
            )
            continue
        value, problem = parse_value(key, text, current[key])
        if problem is not None:
            out.problems.append(problem)
            continue
        if value == current[key]:
            continue
        table, name = key.split(".", 1)
        doc[table][name] = value  # type: ignore[index]
        out.changes.append(Change(key, current[key], value))
    if out.problems:
        return out
    if out.changes:
        _anchor_paths(doc, source, base_dir, current, out)
    out.text = tomlkit.dumps(doc)
    try:
        validate_config(tomllib.loads(out.text), strategy_models, base_dir)
    except ConfigError as exc:
        out.problems.extend(exc.problems)
        return out
    except tomllib.TOMLDecodeError as exc:
        out.problems.append(f"the edited config is not valid TOML: {exc}")
        return out
    out.diff = "".join(
        difflib.unified_diff(
            source_text.splitlines(keepends=True),
            out.text.splitlines(keepends=True),
            fromfile=str(source),
            tofile="(new file)",
            n=1,
        )
    )
    return out


def _anchor_paths(
    doc: tomlkit.TOMLDocument,
    source: Path,
    base_dir: Path,
    current: Mapping[str, Any],
    out: Preview,
) -> None:
    """Make relative file paths absolute when the new file lives in another folder.

    A relative path in the config is relative to the config's own folder; written elsewhere
    (a read-only config folder, as in Docker) it would point nowhere. Each value that names an
    existing file relative to `source`'s folder is rewritten to that file's absolute path, and
    the change is listed with the others.
    """
    folder = source.resolve().parent
    if folder == base_dir.resolve():
        return
    edited = {c.key for c in out.changes}
    for key, value in current.items():
        if key in edited or not isinstance(value, str) or not value or Path(value).is_absolute():
            continue
        target = folder / value
        if target.is_file():
            table, name = key.split(".", 1)
            doc[table][name] = str(target)  # type: ignore[index]
            out.changes.append(Change(key, value, str(target)))


def new_path(source: Path, edits_dir: Path, now: datetime) -> Path:
    """Return a fresh file name for an edited copy of `source` in `edits_dir`."""
    stem = source.stem.split(".edit-")[0]
    base = edits_dir / f"{stem}.edit-{now:%Y%m%d-%H%M%S}.toml"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.stem}-{n}.toml")
    return path


def write_new(text: str, path: Path) -> None:
    """Write `text` to a new file at `path` atomically; FileExistsError if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()


def journal_edit(writer: JsonlWriter, p: Preview, written: Path, now: datetime) -> None:
    """Journal a written edit: the source, the new file, every change."""
    writer.write(
        [
            {
                "event": "CONFIG_EDIT",
                "ts": now,
                "source": str(p.source),
                "written": str(written),
                "sha256": p.digest,
                "changes": [{"key": c.key, "old": c.old, "new": c.new} for c in p.changes],
                "effective": "at the next start with this file",
            }
        ]
    )
