"""Where a study's runs execute: this process, local worker processes, or a Dask cluster.

Every executor takes a batch of jobs and returns their results *in the jobs' order*, whatever
order they finished in, so a study tells Optuna the same results in the same order however it
ran: the same settings give the same trials in one process, in `N` local processes or on Dask.
`on_done` is called in this process each time a job finishes (for a progress bar).

* `SerialExecutor` — runs each job here, one after the other.
* `ProcessExecutor` — a pool of `workers` fresh Python processes (``spawn``: no thread or lock
  of this process is inherited); each job is a real run in a subprocess.
* `DaskExecutor` — the jobs go to an existing Dask cluster (``tcp://host:port`` of its
  scheduler) as Dask futures; the workers must have Seeker installed (the same version).
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

J = TypeVar("J")
R = TypeVar("R")

Done = Callable[[int], None]
"""Called with the index (in the batch) of each job that finished."""


def _ignore(_index: int) -> None:
    """Ignore a job's completion."""


class Executor(Protocol):
    """Runs batches of jobs and hands their results back in order."""

    @property
    def description(self) -> str:
        """Return what runs the jobs, e.g. ``2 local processes``."""
        ...

    def run(self, fn: Callable[[J], R], jobs: Sequence[J], on_done: Done = _ignore) -> list[R]:
        """Return `fn(job)` for every job, in the jobs' order (the first error is raised)."""
        ...

    def close(self) -> None:
        """Release the workers."""
        ...


class SerialExecutor:
    """Run every job in this process, in order."""

    description = "this process"

    def run(self, fn: Callable[[J], R], jobs: Sequence[J], on_done: Done = _ignore) -> list[R]:
        """Return `fn(job)` for every job, one after the other."""
        out: list[R] = []
        for i, job in enumerate(jobs):
            out.append(fn(job))
            on_done(i)
        return out

    def close(self) -> None:
        """Nothing to release."""


POOL_WORKER = False
"""True in a worker process of `ProcessExecutor` (set by its initializer)."""


def _worker_init() -> None:
    """Leave Ctrl+C to the parent: it stops the study and terminates the workers."""
    global POOL_WORKER
    POOL_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def in_pool_worker() -> bool:
    """Return True in a worker process of `ProcessExecutor`."""
    return POOL_WORKER


class ProcessExecutor:
    """Run jobs in `workers` local processes (started fresh with ``spawn``)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be ≥ 1 (got {workers})")
        self.workers = workers
        self._pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init)
        self._broken = False

    @property
    def description(self) -> str:
        """Return e.g. ``2 local processes``."""
        return f"{self.workers} local process{'es' if self.workers != 1 else ''}"

    def run(self, fn: Callable[[J], R], jobs: Sequence[J], on_done: Done = _ignore) -> list[R]:
        """Return `fn(job)` for every job, run in the pool, in the jobs' order.

        On an error or an interruption the pool is terminated (no orphan keeps running).
        """
        finished: queue.Queue[int] = queue.Queue()
        pending = [
            self._pool.apply_async(
                fn,
                (job,),
                callback=lambda _r, i=i: finished.put(i),
                error_callback=lambda _e, i=i: finished.put(i),
            )
            for i, job in enumerate(jobs)
        ]
        try:
            for _ in pending:
                index = finished.get()
                pending[index].get()  # raise the job's error now
                on_done(index)
        except BaseException:
            self._broken = True
            self._terminate()
            raise
        return [p.get() for p in pending]

    def _terminate(self) -> None:
        """Terminate the workers (SIGTERM); SIGKILL any still alive `KILL_AFTER_SECONDS` later.

        ``Pool.terminate`` waits for every worker to exit: a worker whose run caught the SIGTERM as
        it was ending anyway, and went back to wait for work, would keep it waiting forever.
        """
        workers = multiprocessing.active_children()  # this process's children: the pool's
        timer = threading.Timer(KILL_AFTER_SECONDS, _kill_alive, args=(workers,))
        timer.daemon = True
        timer.start()
        try:
            self._pool.terminate()
        finally:
            timer.cancel()

    def close(self) -> None:
        """Stop the workers (terminated at once after an error or an interruption)."""
        if self._broken:
            self._terminate()
        else:
            self._pool.close()
        self._pool.join()


KILL_AFTER_SECONDS = 5.0
"""How long terminated workers have to exit before they are killed, seconds."""


def _kill_alive(workers: Sequence[multiprocessing.process.BaseProcess]) -> None:
    """SIGKILL the workers that are still alive."""
    for worker in workers:
        if worker.is_alive():
            worker.kill()


class DaskExecutor:
    """Run jobs on the Dask cluster whose scheduler listens at `address` (``tcp://host:port``)."""

    def __init__(self, address: str, timeout_seconds: float = 30.0) -> None:
        from distributed import Client

        self.address = address
        self._client = Client(address, timeout=timeout_seconds, set_as_default=False)

    @property
    def description(self) -> str:
        """Return e.g. ``Dask at tcp://127.0.0.1:8786 (2 workers)``."""
        workers = len(self._client.scheduler_info().get("workers", {}))
        return f"Dask at {self.address} ({workers} worker{'s' if workers != 1 else ''})"

    def run(self, fn: Callable[[J], R], jobs: Sequence[J], on_done: Done = _ignore) -> list[R]:
        """Return `fn(job)` for every job, run as Dask futures, in the jobs' order."""
        from distributed import as_completed

        futures = [self._client.submit(fn, job, pure=False) for job in jobs]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for f in as_completed(futures, loop=self._client.loop):
                f.result()  # raise the job's error now
                on_done(index[f.key])
        except BaseException:
            self._client.cancel(futures)
            raise
        return [f.result() for f in futures]

    def close(self) -> None:
        """Disconnect from the cluster (the cluster itself keeps running)."""
        self._client.close()


def make_executor(workers: int | None, dask: str | None) -> Executor:
    """Return the executor the command line asks for: Dask, local processes, or this process."""
    if dask is not None and workers is not None:
        raise ValueError("--workers and --dask exclude each other: pick one")
    if dask is not None:
        return DaskExecutor(dask)
    if workers is not None and workers > 1:
        return ProcessExecutor(workers)
    return SerialExecutor()
