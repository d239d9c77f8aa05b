"""Ctrl-C and SIGTERM as exceptions, held back while a step must not be cut in half.

The CLI routes both signals to `interrupt`; it raises KeyboardInterrupt (Ctrl-C) or Terminated
(SIGTERM) at once, so every `finally` (temp folder, lock) runs, unless a `signals_deferred`
block is running (making the lock file, swapping folders): then it is raised when the block
ends. Python runs signal handlers in the main thread between bytecodes, whichever thread the
OS delivered the signal to, so this holds with polars' worker threads too.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from crmclean.errors import Terminated

_depth = [0]
_pending: list[int] = []


def _exception(signum: int) -> BaseException:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def interrupt(signum: int, frame: object = None) -> None:
    """The handler for SIGINT and SIGTERM."""
    if _depth[0]:
        _pending.append(signum)
        return
    raise _exception(signum)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block whole; a signal that arrives meanwhile is raised when it ends."""
    _depth[0] += 1
    try:
        yield
    finally:
        _depth[0] -= 1
        if not _depth[0] and _pending:
            signum = _pending[0]
            _pending.clear()
            raise _exception(signum)
