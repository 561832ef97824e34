"""The same study gives the same trials whichever way its runs executed: here, in local worker
processes, or on a two-worker Dask LocalCluster."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from seeker.research.executors import (
    DaskExecutor,
    Executor,
    ProcessExecutor,
    make_executor,
)
from seeker.research.study import completed, open_study, search
from tests.research.conftest import Tiny
from tests.research.tiny import RUNNER, trial_table
from tests.support import ROOT


def same_study(tiny: Tiny, executor: Executor, logs: Path) -> list[tuple[object, ...]]:
    study = open_study(logs, "tiny", tiny.setup.settings)
    try:
        search(study, tiny.setup, 3, executor, RUNNER)
    finally:
        executor.close()
    return trial_table(completed(study))


@pytest.mark.slow
def test_local_processes_give_the_same_trials(tiny: Tiny, tmp_path: Path) -> None:
    executor = make_executor(2, None)
    assert isinstance(executor, ProcessExecutor) and executor.description == "2 local processes"
    assert same_study(tiny, executor, tmp_path / "logs") == trial_table(completed(tiny.study))


@pytest.fixture
def cluster_address() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
def test_a_two_worker_dask_cluster_gives_the_same_trials(
    tiny: Tiny, tmp_path: Path, cluster_address: str
) -> None:
    executor = make_executor(None, cluster_address)
    assert isinstance(executor, DaskExecutor)
    assert executor.description == f"Dask at {cluster_address} (2 workers)"
    assert same_study(tiny, executor, tmp_path / "logs") == trial_table(completed(tiny.study))


TERMINATE_SCRIPT = """
import sys
from seeker.research.executors import ProcessExecutor
from tests.research.pool_jobs import deaf_or_failing
executor = ProcessExecutor(2)
try:
    executor.run(deaf_or_failing, [(0, sys.argv[1]), (1, sys.argv[1])])
except ValueError as exc:
    print("failed:", exc)
executor.close()
print("ended")
"""


@pytest.mark.slow
def test_a_worker_deaf_to_sigterm_cannot_keep_the_pool_from_ending(tmp_path: Path) -> None:
    """A job fails while another worker, deaf to SIGTERM (a run's own handler took it), is busy:
    the executor terminates the pool, kills that worker after a grace period and ends. Bounded by
    the subprocess timeout: on ``Pool.terminate`` alone it waits for the busy worker (10 min).
    The failing job raises once the deaf one says it is deaf (a file), not after a fixed second."""
    done = subprocess.run(
        [sys.executable, "-c", TERMINATE_SCRIPT, str(tmp_path / "deaf")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["failed: this job fails", "ended"]


def test_workers_and_dask_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="exclude each other"):
        make_executor(2, "tcp://127.0.0.1:1")
