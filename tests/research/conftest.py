"""One tiny real study shared by the research tests (its runs are made once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest

from seeker.research.evaluate import evaluate
from seeker.research.evidence import Evaluation
from seeker.research.executors import SerialExecutor
from seeker.research.setup import prepare
from seeker.research.study import StudySetup, open_study, search
from tests.research.tiny import RUNNER, request, write_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class Tiny:
    """A graded study of 3 grid trials: where it is stored, its setup, and what grading found."""

    logs: Path
    setup: StudySetup
    study: optuna.Study
    evaluation: Evaluation
    progress: list[tuple[str, int, int, float | None]]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    folder = tmp_path_factory.mktemp("tiny")
    setup = prepare(
        request(write_space(folder), stability=True, by_regime=True, min_regime_trades=2)
    )
    logs = folder / "logs"
    study = open_study(logs, "tiny", setup.settings)
    seen: list[tuple[str, int, int, float | None]] = []

    def progress(phase: str, done: int, total: int, best: float | None) -> None:
        seen.append((phase, done, total, best))

    search(study, setup, 3, SerialExecutor(), RUNNER, progress)
    evaluation = evaluate(study, setup, SerialExecutor(), RUNNER, progress)
    return Tiny(logs, setup, study, evaluation, seen)
