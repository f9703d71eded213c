"""Where a sweep's runs execute: local processes, or a Dask distributed cluster.

Both engines take the same tasks and yield one ``RunResult`` per task as
runs finish, in whatever order they finish; the rows do not depend on the
engine because every task carries its own scenario and seed.

- ``local``: a ``concurrent.futures.ProcessPoolExecutor`` with the
  platform's default start method (one run per task: the pool's overhead is
  far below a run's); ``workers=1`` runs in this process, with no pickling.
- ``dask``: ``dask.distributed`` on the cluster at ``scheduler``, or on a
  ``LocalCluster`` started for the sweep; a task is a small batch of runs so
  that the scheduler's per-task cost is spread.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from qstack.experiments.runs import RunResult, RunTask, run_batch, run_task
from qstack.registry import Registry

#: Engine names ``--engine`` accepts.
ENGINES: tuple[str, ...] = ("local", "dask")

#: Seconds between a local worker's checks that the sweep process is still there.
PARENT_POLL_S = 0.5
#: Tasks in flight per local worker: enough to keep it busy, few enough to stop fast.
LOCAL_WINDOW_PER_WORKER = 4
#: Dask: aim for this many batches per worker, each of at most MAX_BATCH runs.
BATCHES_PER_WORKER = 12
MAX_BATCH = 16
#: Seconds to wait for a Dask scheduler given with ``--scheduler``.
CONNECT_TIMEOUT_S = 10


class EngineError(RuntimeError):
    """The engine cannot start or keep going (a missing extra, an unreachable scheduler)."""


class Engine(Protocol):
    """Runs tasks and yields their results as they finish; ``close`` stops at once."""

    def results(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_picklable(registry: Registry) -> None:
    """Worker processes get the registry by pickling: say so plainly when that fails."""
    try:
        pickle.dumps(registry)
    except Exception as error:
        raise EngineError(
            f"the registry cannot be sent to worker processes ({type(error).__name__}: {error}); "
            "register plug-in classes defined at the top level of an importable module "
            "(not lambdas or classes defined inside functions), or use workers=1"
        ) from None


def _start_worker(parent: int) -> None:
    """Leave Ctrl-C to the parent, which stops the workers in order, and end with the
    parent: a sweep killed outright (SIGKILL) must not leave workers running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def sweep_registry(registry: Registry | None) -> Registry:
    """The registry every run of a sweep resolves plug-in names in: the one given, or
    the built-ins and this machine's entry points, scanned once per sweep, not per run."""
    return Registry.with_defaults() if registry is None else registry


class LocalEngine:
    """Processes on this machine (or this process, for one worker)."""

    def __init__(self, workers: int, registry: Registry | None) -> None:
        self.workers = workers
        self.registry = sweep_registry(registry)
        self._pool: ProcessPoolExecutor | None = None

    def results(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        if self.workers == 1:
            for task in tasks:
                yield run_task(task, self.registry)
            return
        _check_picklable(self.registry)  # whatever the task count: the rule should not vary
        self._pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        window = self.workers * LOCAL_WINDOW_PER_WORKER
        queue = iter(tasks)
        running: set[Future[RunResult]] = set()
        while True:
            for task in queue:
                running.add(self._pool.submit(run_task, task, self.registry))
                if len(running) >= window:
                    break
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
        self._pool.shutdown()
        self._pool = None

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # Before 3.14 (``terminate_workers``) the pool has no public way to stop a running task.
        terminate = getattr(pool, "terminate_workers", None)
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        if terminate is not None:
            terminate()
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()


def _imported_on_worker() -> None:
    """Run on each Dask worker at start: unpickling this function imports qstack there."""


def batch_size(tasks: int, workers: int) -> int:
    """Runs per Dask task: about ``BATCHES_PER_WORKER`` tasks per worker, at most ``MAX_BATCH``."""
    return max(1, min(MAX_BATCH, math.ceil(tasks / (max(workers, 1) * BATCHES_PER_WORKER))))


class DaskEngine:
    """A Dask distributed cluster: the one at ``scheduler``, or a local one for this sweep."""

    def __init__(self, workers: int, registry: Registry | None, scheduler: str | None) -> None:
        try:
            distributed: Any = importlib.import_module("dask.distributed")
        except ImportError:
            raise EngineError(
                "the dask engine needs dask.distributed: pip install 'qstack[dask]'"
            ) from None
        self._distributed: Any = distributed
        self.registry = sweep_registry(registry)
        self._cluster: Any = None
        self._futures: list[Any] = []
        if scheduler is None:
            self._cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,  # runs are pure Python: one per process
                processes=True,
                dashboard_address=":0",  # a free port: never clash with a running dashboard
                silence_logs=logging.ERROR,
            )
            self._client: Any = distributed.Client(self._cluster)
        else:
            try:
                self._client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as error:
                raise EngineError(
                    f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({error})"
                ) from None
        try:  # import qstack on every worker now, not inside the first runs' time
            self._client.run(_imported_on_worker)
        except ImportError as error:
            self.close()
            raise EngineError(
                f"the Dask workers cannot import qstack ({error}); install qstack and the "
                "plug-ins the scenario names on every worker machine"
            ) from None

    def _worker_count(self) -> int:
        threads: dict[str, int] = self._client.nthreads()
        return max(1, sum(threads.values()))

    def results(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        if not tasks:
            return
        _check_picklable(self.registry)
        registry = self._client.scatter(self.registry, broadcast=True, hash=False)
        size = batch_size(len(tasks), self._worker_count())
        self._futures = [
            self._client.submit(run_batch, list(tasks[i : i + size]), registry, pure=False)
            for i in range(0, len(tasks), size)
        ]
        for future in self._distributed.as_completed(self._futures):
            yield from future.result()
        self._futures = []

    def close(self) -> None:
        if self._futures:
            self._client.cancel(self._futures)
            self._futures = []
        # The cluster logs its shutdown at INFO; a sweep's output is its rows.
        logger = logging.getLogger("distributed")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            self._client.close()
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None
        finally:
            logger.setLevel(level)


def make_engine(
    engine: str, workers: int | None, registry: Registry | None, scheduler: str | None
) -> Engine:
    """The engine by name; ``workers`` None means every core of this machine."""
    count = default_workers() if workers is None else workers
    if count < 1:
        raise EngineError(f"--workers = {count}: must be >= 1")
    if engine == "local":
        if scheduler is not None:
            raise EngineError("--scheduler is for --engine dask")
        return LocalEngine(count, registry)
    if engine == "dask":
        return DaskEngine(count, registry, scheduler)
    raise EngineError(f"--engine = {engine!r}: must be one of {', '.join(ENGINES)}")
