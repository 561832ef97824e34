"""Keep the account's limits across restarts: one JSON file, written then renamed (atomic)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from seeker.agents.account.limits import LimitsState

STATE_VERSION = 1


def load_state(path: Path) -> LimitsState | None:
    """Return the state saved at `path`, None when there is none; ValueError if unreadable."""
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: account state unreadable ({exc})") from None
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: unsupported account state (version {STATE_VERSION} expected)")
    try:
        return LimitsState.from_dict(raw.get("state") or {})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def save_state(path: Path, state: LimitsState) -> None:
    """Write the state to a temporary file, fsync it, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    data = json.dumps({"version": STATE_VERSION, "state": state.as_dict()}, indent=1)
    with tmp.open("w") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
