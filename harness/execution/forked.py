"""One function run in a forked child set up like a sandbox's, with a deadline: advise's measuring
and calibrating steps, which run the user's code before any matrix starts. A crash, a signal, an
exception (``SystemExit`` included) or a hang becomes an :class:`IsolatedFailure`, never the end of
the caller; several children may run at once (:class:`Forked`).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any, TypeVar

from optbench.harness.core.errors import HarnessError
from optbench.harness.execution.sandbox import ended, isolate, raised

T = TypeVar("T")


class IsolatedFailure(HarnessError):
    """What :func:`call`'s child did instead of returning: raised, died, or outlived its deadline."""


def call(fn: Callable[..., T], *args: Any, timeout_s: float | None) -> T:
    """``fn(*args)`` run in a forked child set up like a sandbox's, its value sent back (pickled).

    Raises :class:`IsolatedFailure` saying what happened instead: ``fn`` raised (any exception,
    ``SystemExit`` and ``KeyboardInterrupt`` included), the child died (``os._exit``, a signal), or
    it gave no result within ``timeout_s`` (it is then killed: SIGKILL ends a stopped process too).
    Leaving early (Ctrl-C here) kills the child. Where this process has started CUDA, which a
    forked child cannot use, ``fn`` runs here, unisolated."""
    return Forked(fn, *args).result(timeout_s)


class Forked:
    """One :func:`call` under way: forked when made, so several can run at once; :meth:`result`
    waits for its value (``timeout_s`` counts from the fork) and always reaps the child."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.started = time.monotonic()
        self.pid: int | None = None
        self.connection: Connection | None = None
        self._here: tuple[Callable[..., Any], tuple] | None = None
        if _cuda_started():
            self._here = fn, args
            return
        receiver, sender = Pipe(duplex=False)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            receiver.close()
            code = 1
            try:
                isolate()
                sender.send(_outcome(fn, args))
                code = 0
            finally:
                os._exit(code)
        sender.close()
        self.pid, self.connection = pid, receiver

    def left_s(self, timeout_s: float | None) -> float | None:
        """Seconds left of ``timeout_s`` (None: no deadline)."""
        return None if timeout_s is None else max(0.0, timeout_s - (time.monotonic() - self.started))

    def result(self, timeout_s: float | None) -> Any:
        """The value, or :class:`IsolatedFailure` saying what happened instead (see :func:`call`)."""
        if self._here is not None:
            fn, args = self._here
            return fn(*args)
        assert self.pid is not None and self.connection is not None
        pid, receiver, death = self.pid, self.connection, None
        try:
            if not receiver.poll(self.left_s(timeout_s)):
                raise IsolatedFailure(f"no result after {timeout_s:g} s; its process was killed")
            try:
                done, value = receiver.recv()
            except EOFError:
                death = ended(os.waitpid(pid, 0)[1])
                raise IsolatedFailure(f"its process died ({death})") from None
        finally:
            self.kill(reaped=death is not None)
        if not done:
            raise IsolatedFailure(value)
        return value

    def kill(self, reaped: bool = False) -> None:
        """End and reap the child (a no-op once done; SIGKILL is a no-op on a child that returned)."""
        if self.pid is None or self.connection is None:
            return
        self.connection.close()
        if not reaped:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        self.pid = self.connection = None


def _outcome(fn: Callable[..., Any], args: tuple) -> tuple[bool, Any]:
    """``(True, fn(*args))``, or ``(False, what it raised)`` as one line."""
    try:
        return True, fn(*args)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the user's code raised them
        return False, f"{raised(exc)} raised"


def _cuda_started() -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and torch.cuda.is_initialized()
