"""Calls run in a second process that was started early, so that its slow imports overlap this
process's own work.

``bucketmap run`` spends about 0.5 s importing pandas and vectorbt's order kernel (with numba)
before it can simulate, and the claims' weekly history, which does not need the simulation,
takes about 0.9 s. :class:`Background` starts a fresh interpreter at once (``subprocess``: no
fork of this process, whatever threads it holds), which imports the given modules while this
process goes on; :meth:`Background.submit` later sends it a call (pickled: a function importable
by name and its arguments) and the :class:`Pending` it returns gives that call's value. Calls
run one at a time, in the order sent; several may be sent before any value is read (each value
is kept until its :class:`Pending` is read, in any order).

A value is the call's own: a function of its arguments only gives the same bits in either
process. Whenever the second process cannot deliver (it failed to start or import, the call
raised, the process died, an answer did not unpickle) the call runs here instead, so an error is
raised from this process with its own traceback, as without a second process.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import pickle
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

from backtest.simulation.orders import KERNEL_IMPORTS

P = ParamSpec("P")
T = TypeVar("T")

RUN_IMPORTS = ("backtest.run", "backtest.evidence.claims", *KERNEL_IMPORTS)
"""What a run's simulation imports before it can start: the run stage, the claims, and what
vectorbt's order kernel loads when first called
(:data:`backtest.simulation.orders.KERNEL_IMPORTS`)."""

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""The second process's BLAS threads; this process keeps to one too while it has sent a call
(threadpoolctl). Two processes on two cores with two BLAS threads each ran the claims' tests
at half speed (an idle OpenBLAS thread spins on the core the other process needs); with one
each, at full speed. The files stay the same byte for byte (OpenBLAS splits a product's rows
among its threads, not the sums inside an element; tests/test_reference_run.py compares)."""

_OK, _FAILED = "ok", "failed"


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, which containers and
    ``taskset`` narrow; ``os.cpu_count()`` where there is none). A second process only pays with
    two or more: on one core it would take turns with this one and add its own imports."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Background:
    """A second interpreter that imports ``modules`` from the moment this object is made, then
    runs the calls :meth:`submit` sends it, one at a time, in order (see the module). Use it as a
    context manager, or :meth:`close` it: the process is stopped.

    ``delivered`` counts the calls whose value came from the second process; ``why_local`` says
    why the last call that ran here did so (None while none has)."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.delivered = 0
        self.why_local: str | None = None
        self._unanswered: deque[Pending[Any]] = deque()  # sent, in order, answers not yet read
        self._writer: threading.Thread | None = None  # the last call's, which writes after the rest
        self._limits: Any = None
        setup = json.dumps([list(sys.path), list(modules)])
        command = [sys.executable, "-c", _BOOT, setup]
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, **ONE_THREAD},
            )
        except OSError as exc:  # no second process on this machine: everything runs here
            self._process = None
            self.why_local = f"the second process did not start ({exc})"

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Pending[T]:
        """Send ``fn(*args, **kwargs)`` to the second process (``fn`` must be importable by its
        module and name) and return at once (a thread writes the call, after the calls sent
        before it, while the process may still be importing or computing them); the returned
        :class:`Pending` gives its value."""
        pending: Pending[T] = Pending(self, fn, args, kwargs)
        process = self._process
        if process is None or process.stdin is None:
            return pending
        try:
            payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            self.why_local = f"the call does not pickle ({exc})"
            return pending
        pending.sent = True
        self._unanswered.append(pending)
        if self._limits is None:  # from now on two processes compute: one BLAS thread each
            from threadpoolctl import threadpool_limits

            self._limits = threadpool_limits(1, user_api="blas")
        writer = threading.Thread(
            target=_write_after, args=(self._writer, process.stdin, payload), daemon=True
        )
        self._writer = writer
        writer.start()
        return pending

    def _answer_to(self, pending: Pending[Any]) -> tuple[Any] | None:
        """The value of the sent call ``pending`` (in a 1-tuple), or None (``why_local`` says
        why): the answers to the calls sent before it are read first, in order, and kept with
        theirs."""
        while self._unanswered and not pending.answered:
            first = self._unanswered.popleft()
            first.answer, first.answered = self._next_answer(), True
        return pending.answer

    def _next_answer(self) -> tuple[Any] | None:
        """The next answer the second process writes: a value (in a 1-tuple), or None
        (``why_local`` says why)."""
        process = self._process
        if process is None or process.stdout is None:
            return None
        try:
            status, value = pickle.load(process.stdout)
        except Exception as exc:  # noqa: BLE001 - any undecodable answer: run the call here
            self.close()
            code = process.returncode
            self.why_local = f"the second process gave no answer (exit code {code}; {exc!r})"
            return None
        if status != _OK:
            self.why_local = f"the call failed in the second process:\n{value}"
            return None
        self.delivered += 1
        return (value,)

    def close(self) -> None:
        """Stop the second process if it is still running, release its pipes, and give this
        process's BLAS its threads back."""
        limits, self._limits = self._limits, None
        if limits is not None:
            limits.restore_original_limits()
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def __enter__(self) -> Background:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Pending(Generic[T]):
    """A call sent to a :class:`Background` (or kept here when it could not be sent)."""

    def __init__(
        self,
        background: Background,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self._background = background
        self._call = (fn, args, kwargs)
        self.sent = False
        self.answered = False
        self.answer: tuple[T] | None = None
        self.done = False
        self.delivered = False
        """Whether the value came from the second process (after :meth:`result`)."""

    def result(self) -> T:
        """The call's value: from the second process, or, if it did not deliver, from running
        the call here (its exceptions propagate). Read once."""
        if self.done:
            raise RuntimeError("a call's result is read once")
        self.done = True
        fn, args, kwargs = self._call
        answer = self._background._answer_to(self) if self.sent else None
        if answer is not None:
            self.delivered = True
            value: T = answer[0]
            return value
        return fn(*args, **kwargs)


def _write_after(before: threading.Thread | None, stream: Any, payload: bytes) -> bool:
    """:func:`_write_all` once ``before`` (the previous call's writer) has written its call."""
    if before is not None:
        before.join()
    return _write_all(stream, payload)


def _write_all(stream: Any, payload: bytes) -> bool:
    """Write and flush ``payload``; False when the other end has gone (ended, or closed)."""
    try:
        stream.write(payload)
        stream.flush()
    except (OSError, ValueError):  # a call not sent runs here; an answer not taken is dropped
        return False
    return True


def serve(modules: list[str]) -> None:
    """The second process: import ``modules``, then for each pickled call read from standard
    input write ``("ok", value)`` or ``("failed", traceback text)`` to standard output, until
    standard input ends; exit without the interpreter's teardown. Anything printed goes to
    standard error.

    A thread writes each answer, after the answers before it, while the next call is computed:
    the caller reads an answer when it needs the value, and a value larger than a pipe holds
    would otherwise keep this process waiting for that read with calls still to compute."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    gc.set_threshold(10_000, 10, 10)  # as bucketmap.cli.main: fewer collections of survivors
    failed_import = _imported(modules)
    writer: threading.Thread | None = None
    serving = True
    while serving:
        try:
            fn, args, kwargs = pickle.load(sys.stdin.buffer)
        except EOFError:
            break
        except BaseException:  # noqa: BLE001 - an undecodable call: say so, and stop
            data, serving = pickle.dumps((_FAILED, traceback.format_exc())), False
        else:
            data = _reply(fn, args, kwargs, failed_import)
        writer = threading.Thread(target=_write_after, args=(writer, answer, data), daemon=True)
        writer.start()
    if writer is not None:  # the last answers are written (or the caller has gone) before exit
        writer.join()
    os._exit(0)


def _imported(modules: Sequence[str]) -> str | None:
    """Import ``modules``; the traceback of the first that fails, or None."""
    try:
        for name in modules:
            importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - every call is answered with it
        return traceback.format_exc()
    return None


def _reply(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], failed: str | None
) -> bytes:
    """The pickled answer to one call: its value, or the traceback of its (or the imports')
    failure."""
    if failed is not None:
        return pickle.dumps((_FAILED, failed))
    try:
        return pickle.dumps((_OK, fn(*args, **kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 - reported; the caller runs the call itself
        return pickle.dumps((_FAILED, traceback.format_exc()))


_BOOT = (
    "import json, sys\n"
    "path, modules = json.loads(sys.argv[1])\n"
    "sys.path[:] = path\n"
    "from backtest.background import serve\n"
    "serve(modules)\n"
)
