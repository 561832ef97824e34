"""Candidates: a study's chosen parameters written beside the config, never into it.

``seeker optimize --export`` writes ``<config folder>/candidates/<strategy>-<study>.toml``: a
``[candidate]`` table (grade, every criterion, provenance: study, storage, space and config files
with their SHA-256, sampler, seeds, windows) and a ``[strategies.<strategy>]`` table holding only
the searched parameters. Nothing edits ``config/seeker.toml``: ``seeker run --candidate FILE``
overlays that table on the strategy's own, validated like any config, so a human can watch the
candidate (``--shadow``) before adopting it by hand.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from seeker.config.loading import ConfigError, read_toml
from seeker.research.evidence import Evaluation
from seeker.research.searchable import HARD_CONSTRAINTS
from seeker.research.settings import StudySettings

CANDIDATES_FOLDER = "candidates"


def sha256_of(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (hex)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def candidate_path(config_file: Path, strategy: str, study: str) -> Path:
    """Return where the candidate of `study` goes: beside the config, under ``candidates/``."""
    return config_file.resolve().parent / CANDIDATES_FOLDER / f"{strategy}-{study}.toml"


def _nested(point: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(point):
        *parents, last = name.split(".")
        table = out
        for part in parents:
            table = table.setdefault(part, {})
        table[last] = point[name]
    return out


def _no_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_no_none(v) for v in value]
    return value


def candidate_document(
    evaluation: Evaluation, settings: StudySettings, storage: Path
) -> dict[str, Any]:
    """Return the candidate file's data: provenance, grade and the searched parameters."""
    card = evaluation.card
    doc: dict[str, Any] = {
        "candidate": {
            "strategy": evaluation.strategy,
            "study": evaluation.study,
            "trial": evaluation.candidate_trial,
            "grade": card.grade,
            "score": round(card.score, 4),
            "underpowered": card.underpowered,
            "oos_trades": card.oos_trades,
            "oos_sharpe": round(evaluation.oos_sharpe, 4),
            "oos_pnl": round(evaluation.oos_pnl, 2),
            "dsr": round(evaluation.dsr.dsr, 4),
            "reasons": list(card.reasons),
            "criteria": {
                c.name: {
                    "raw": None if c.raw is None else round(c.raw, 4),
                    "score": round(c.score, 4),
                    "weight": c.weight,
                    "note": c.note,
                }
                for c in card.criteria
            },
            "provenance": {
                "storage": str(storage),
                "space_file": settings.space_file,
                "space_sha256": settings.space_sha256,
                "config_file": settings.config_file,
                "config_sha256": settings.config_sha256,
                "sampler": settings.sampler,
                "seed": settings.seed,
                "trials_completed": evaluation.trials_completed,
                "sources": [s.key for s in settings.sources],
                "oos_sources": [s.key for s in settings.test_sources()],
                "folds": settings.folds.model_dump(),
                "underlyings": settings.underlyings or [],
            },
        },
        "strategies": {evaluation.strategy: _nested(evaluation.candidate_point)},
    }
    return _no_none(doc)  # type: ignore[no-any-return]


def write_candidate(path: Path, doc: Mapping[str, Any]) -> Path:
    """Write the candidate file at `path` (atomically) and return it."""
    cand = doc["candidate"]
    sources = cand.get("provenance", {}).get("sources", [])
    if sources and all(str(k).startswith("replay ") for k in sources):
        config = cand["provenance"].get("config_file", "CONFIG")
        watch = f"seeker replay {cand['strategy']} --candidate {path.name} --config {config}"
    else:
        watch = f"seeker run {cand['strategy']} --shadow --candidate {path.name}"
    header = (
        f"# Candidate parameters for {cand['strategy']} from study {cand['study']!r}: grade "
        f"{cand['grade']}.\n"
        "# NOT adopted: nothing reads this file unless asked. Watch it with\n"
        f"#   {watch}\n"
        f"# and copy the [strategies.{cand['strategy']}] values into your config only if you "
        "decide to adopt them.\n\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(header + tomli_w.dumps(dict(doc)))
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class Candidate:
    """A candidate file as read: its strategy, study, grade and the table it overlays."""

    path: Path
    strategy: str
    study: str
    grade: str
    overrides: dict[str, Any]


def _dotted(table: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.extend(_dotted(value, name + "."))
        else:
            out.append(name)
    return out


def read_candidate(path: Path) -> Candidate:
    """Read a candidate file (ConfigError with one line per problem)."""
    data = read_toml(path.expanduser())
    problems = [
        f"{path}: {k}: unknown key" for k in sorted(set(data) - {"candidate", "strategies"})
    ]
    meta = data.get("candidate")
    tables = data.get("strategies")
    if not isinstance(meta, dict) or not isinstance(meta.get("strategy"), str):
        raise ConfigError([*problems, f"{path}: candidate.strategy: required key is missing"])
    name = meta["strategy"]
    if not isinstance(tables, dict) or set(tables) != {name} or not isinstance(tables[name], dict):
        problems.append(f"{path}: strategies: must hold exactly one table, [strategies.{name}]")
        raise ConfigError(problems)
    overrides = tables[name]
    if not overrides:
        problems.append(f"{path}: strategies.{name}: no parameter to overlay")
    for key in _dotted(overrides):
        why = HARD_CONSTRAINTS.reason(key)
        if why is not None:
            problems.append(f"{path}: strategies.{name}.{key}: a candidate cannot set it: {why}")
    if problems:
        raise ConfigError(problems)
    return Candidate(
        path=path,
        strategy=name,
        study=str(meta.get("study", "?")),
        grade=str(meta.get("grade", "?")),
        overrides=overrides,
    )


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> None:
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def overlay(data: Mapping[str, Any], candidate: Candidate) -> dict[str, Any]:
    """Return config data with the candidate's table laid over its strategy's (not validated).

    ConfigError when the config has no table for the candidate's strategy.
    """
    out = copy.deepcopy(dict(data))
    tables = out.get("strategies")
    if not isinstance(tables, dict) or not isinstance(tables.get(candidate.strategy), dict):
        raise ConfigError(
            [
                f"strategies.{candidate.strategy}: required key is missing (the candidate "
                f"{candidate.path} overlays it)"
            ]
        )
    _merge(tables[candidate.strategy], candidate.overrides)
    return out
