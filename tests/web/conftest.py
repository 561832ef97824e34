"""Fixtures of the web tests: the journals of one short simulated run, shared read-only."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

# Starlette's notice that its TestClient will move to httpx2 is not a defect of this project
warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")

from tests.web.support import copy_run, make_journals  # noqa: E402


@pytest.fixture(scope="session")
def run_journals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return (config, log root) of a short real run of the five strategies (made once)."""
    return make_journals(tmp_path_factory.mktemp("run"))


@pytest.fixture
def journals(run_journals: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """Return a private copy (config, log root) of the run's journals for one test."""
    config, logs = run_journals
    return copy_run(config, logs, tmp_path / "w")
