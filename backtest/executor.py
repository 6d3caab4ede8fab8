"""Where heavy jobs run their chunks: in this process, in local worker processes, or on a Dask
cluster.

A job cuts its work into chunks that depend only on their own inputs (a chunk of baskets carries
its own random stream, a chunk of sweep variants its own variants), so the result is the same
however many workers run them and in whatever order they finish: :meth:`Executor.map` returns
the chunks' results in the order of the tasks.

* ``workers=1`` (or a single task): in this process, no pickling.
* ``workers=N``: ``N`` local processes (``concurrent.futures`` with the ``spawn`` start method:
  no fork of a process that holds threads). The shared input is sent to each worker once.
* ``scheduler="tcp://HOST:PORT"``: the Dask cluster there (``dask.distributed``, the optional
  extra ``bucketmap[dask]``). The shared input is scattered to every worker once
  (``broadcast=True``); the workers need bucketmap installed, as the client does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from backtest.conventions import MAX_WORKERS
from buckets.errors import RunConfigError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_SHARED: Any = None


def _install(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _call(job: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    fn, task = job
    return fn(_SHARED, task)


@dataclass(frozen=True)
class Executor:
    """How to run a job's chunks (see the module). ``workers`` counts local processes; with a
    ``scheduler`` the cluster's workers run them and ``workers`` is not used."""

    workers: int = 1
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= MAX_WORKERS:
            raise RunConfigError(f"--workers {self.workers}: from 1 to {MAX_WORKERS}")
        if self.scheduler is not None and not self.scheduler.startswith(
            ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
        ):
            raise RunConfigError(
                f"--scheduler {self.scheduler!r}: a Dask scheduler address, tcp://HOST:PORT"
            )

    @property
    def description(self) -> str:
        """Where the chunks ran, for the output's settings."""
        if self.scheduler is not None:
            return f"the Dask cluster at {self.scheduler}"
        if self.workers == 1:
            return "this process"
        return f"{self.workers} local processes"

    def map(
        self,
        fn: Callable[[S, T], R],
        shared: S,
        tasks: Sequence[T],
        *,
        on_result: Callable[[int], None] | None = None,
    ) -> list[R]:
        """``[fn(shared, task) for task in tasks]``, run where this executor says. ``fn`` must
        be a module-level function (workers import it by name). ``on_result(i)`` is called as
        the results come back, in the order of the tasks (for a progress bar)."""
        done = on_result or (lambda i: None)
        if self.scheduler is not None:
            results = _on_dask(self.scheduler, fn, shared, tasks)
            for i in range(len(results)):
                done(i)
            return results
        out: list[R] = []
        if self.workers == 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                out.append(fn(shared, task))
                done(i)
            return out
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=context,
            initializer=_install,
            initargs=(shared,),
        ) as pool:
            for i, result in enumerate(pool.map(_call, [(fn, task) for task in tasks])):
                out.append(result)
                done(i)
        return out


def _on_dask(address: str, fn: Callable[[S, T], R], shared: S, tasks: Sequence[T]) -> list[R]:
    try:
        import distributed
    except ImportError:
        raise RunConfigError(
            "--scheduler needs dask.distributed: pip install 'bucketmap[dask]'"
        ) from None
    try:
        dask: Any = distributed  # partly typed: its Client calls are untyped
        client = dask.Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise RunConfigError(f"--scheduler {address}: no Dask scheduler answered ({exc})") from None
    try:
        data = client.scatter(shared, broadcast=True)
        futures = client.map(fn, [data] * len(tasks), list(tasks), pure=False)
        results: list[R] = client.gather(futures)
        return results
    finally:
        client.close()


def default_workers() -> int:
    """Local processes a job may use: the machine's cores (at least 1)."""
    return max(1, os.cpu_count() or 1)
