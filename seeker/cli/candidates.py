"""``seeker run --candidate FILE``: a study's candidate laid over its strategy's table, validated.

The config file is never edited: the candidate's ``[strategies.<name>]`` values replace the
config's in memory for this run only, and the whole config is validated again as ``seeker run``
validates it (a bad value exits 2 naming the key). On a broker the candidate runs only in shadow
mode: it is watched, not adopted. ``seeker replay --candidate FILE`` overlays it the same way (a
replay's fills are simulated on recorded quotes: no order reaches a broker).
"""

from __future__ import annotations

import json
from pathlib import Path

from seeker.cli.common import fail
from seeker.config.loading import ConfigError, read_toml, validate_config
from seeker.config.root import SeekerConfig
from seeker.engine.registry import config_models
from seeker.research.candidate import Candidate, overlay, read_candidate
from seeker.strategies import load


def load_candidate_config(config: Path, path: Path) -> tuple[SeekerConfig, Candidate]:
    """Return the config at `config` with the candidate at `path` overlaid, and the candidate."""
    try:
        candidate = read_candidate(path)
        data = overlay(read_toml(config.expanduser()), candidate)
        cfg = validate_config(data, config_models(load()), config.expanduser().resolve().parent)
    except ConfigError as exc:
        fail(
            [
                p if p.startswith(str(path)) else f"candidate {path} on {config}: {p}"
                for p in exc.problems
            ]
        )
    return cfg, candidate


def check_candidate_run(
    candidate: Candidate, chosen: list[str], broker_kind: str, shadow: bool
) -> list[str]:
    """Return why this run cannot take the candidate (empty when it can)."""
    problems = []
    if candidate.strategy not in chosen:
        problems.append(
            f"the candidate {candidate.path} is for {candidate.strategy}, which this run does not "
            f"start (it starts {', '.join(chosen)})"
        )
    if broker_kind not in ("sim", "replay") and not shadow:
        problems.append(
            "on a broker a candidate runs in shadow mode only, until a human adopts it: "
            "add --shadow"
        )
    return problems


def describe(candidate: Candidate) -> str:
    """Return the line ``seeker run`` prints about the candidate it runs."""
    values = ", ".join(f"{k}={json.dumps(v)}" for k, v in _flat(candidate.overrides))
    return (
        f"candidate {candidate.path} (study {candidate.study}, grade {candidate.grade}) overlays "
        f"strategies.{candidate.strategy}: {values}"
    )


def _flat(table: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            out.extend(_flat(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out
