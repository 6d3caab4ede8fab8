"""One call run in a second process that was started early, so that its slow imports overlap
this process's own work.

``bucketmap run`` spends about 1.3 s importing vectorbt (with numba and scipy) before it can
simulate, and the claims' weekly history, which does not need the simulation, spends as long
again. :class:`Background` starts a fresh interpreter at once (``subprocess``: no fork of this
process, whatever threads it holds), which imports the given modules while this process goes on;
:meth:`Background.submit` later sends it one call (pickled: a function importable by name and
its arguments) and :meth:`Background.result` returns that call's value.

The result is the call's own: a function of its arguments only, it gives the same bits in
either process, and whenever the second process cannot deliver (it failed to start or import,
the call raised, the process died, its answer did not unpickle) the call runs here instead, so
an error is raised from this process with its own traceback, as without a second process.
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
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

SIMULATION_IMPORTS = ("backtest.run", "vectorbt")
"""What a run's simulation imports: the run stage and vectorbt (numba and scipy with it)."""

_OK, _FAILED = "ok", "failed"


class Background(Generic[T]):
    """A second interpreter that imports ``modules`` from the moment this object is made, then
    runs the one call :meth:`submit` sends it (see the module). Use it as a context manager, or
    :meth:`close` it: a process not asked for a result is stopped.

    After :meth:`result`, ``delivered`` says whether the value came from the second process and
    ``why_local`` why it did not (None when it did)."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.delivered = False
        self.why_local: str | None = None
        self._call: tuple[Callable[..., T], tuple[Any, ...], dict[str, Any]] | None = None
        self._writer: threading.Thread | None = None
        command = [sys.executable, "-c", _BOOT, json.dumps([list(sys.path), list(modules)])]
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
        except OSError as exc:  # no second process on this machine: everything runs here
            self._process = None
            self.why_local = f"the second process did not start ({exc})"

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Send ``fn(*args, **kwargs)`` to the second process (``fn`` must be importable by its
        module and name); returns at once (a thread writes the call while the process may still
        be importing)."""
        if self._call is not None:
            raise RuntimeError("a Background runs one call")
        self._call = (fn, args, kwargs)
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            self.why_local = f"the call does not pickle ({exc})"
            self.close()
            return
        self._writer = threading.Thread(target=_write_all, args=(process.stdin, payload))
        self._writer.daemon = True
        self._writer.start()

    def result(self) -> T:
        """The call's value: from the second process, or, if it did not deliver, from running
        the call here (its exceptions propagate)."""
        if self._call is None:
            raise RuntimeError("nothing was submitted")
        fn, args, kwargs = self._call
        answer = self._answer()
        if answer is not None:
            self.delivered = True
            return answer[0]
        self.close()
        return fn(*args, **kwargs)

    def _answer(self) -> tuple[T] | None:
        process = self._process
        if process is None or process.stdout is None:
            return None
        data = process.stdout.read()
        code = process.wait()
        if self._writer is not None:
            self._writer.join()
        try:
            status, value = pickle.loads(data)
        except Exception as exc:  # noqa: BLE001 - any undecodable answer: run the call here
            self.why_local = f"the second process gave no answer (exit code {code}; {exc!r})"
            return None
        if status != _OK:
            self.why_local = f"the call failed in the second process:\n{value}"
            return None
        return (value,)

    def close(self) -> None:
        """Stop the second process if it is still running and release its pipes."""
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

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _write_all(stream: Any, payload: bytes) -> None:
    try:
        stream.write(payload)
        stream.close()
    except OSError:  # the process has ended; result() runs the call here
        pass


def serve(path: list[str], modules: list[str]) -> None:
    """The second process: import ``modules``, read one pickled call from standard input, write
    ``("ok", value)`` or ``("failed", traceback text)`` to standard output, and exit without the
    interpreter's teardown. Anything printed goes to standard error."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.path[:] = path
    gc.set_threshold(10_000, 10, 10)  # as bucketmap.cli.main: fewer collections of survivors
    try:
        for name in modules:
            importlib.import_module(name)
        fn, args, kwargs = pickle.load(sys.stdin.buffer)
        reply: tuple[str, Any] = (_OK, fn(*args, **kwargs))
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 - reported to the caller, which runs the call itself
        data = pickle.dumps((_FAILED, traceback.format_exc()), protocol=pickle.HIGHEST_PROTOCOL)
    answer.write(data)
    answer.flush()
    os._exit(0)


_BOOT = (
    "import json, sys\n"
    "path, modules = json.loads(sys.argv[1])\n"
    "sys.path[:] = path\n"
    "from backtest.background import serve\n"
    "serve(path, modules)\n"
)
