"""Ctrl-C and SIGTERM as exceptions, held back while a step must not be cut in half.

The CLI routes both signals to `interrupt`; it raises KeyboardInterrupt (Ctrl-C) or Terminated
(SIGTERM) at once, so every `finally` (temp folder, lock) runs, unless a `signals_deferred`
block is running (making the lock file, swapping folders): then it is raised when the block
ends. Once a command's outputs are published (`outputs_published`), a signal no longer
changes the outcome: it is noted (`late_signals`) and the command exits with its own code.
Python runs signal handlers in the main thread between bytecodes, whichever thread the
OS delivered the signal to, so this holds with polars' worker threads too.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from crmclean.errors import Terminated

_depth = [0]
_pending: list[int] = []
_published = [False]
_late: list[int] = []


def _exception(signum: int) -> BaseException:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def interrupt(signum: int, frame: object = None) -> None:
    """The handler for SIGINT and SIGTERM."""
    if _published[0]:
        _late.append(signum)
        return
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
            if _published[0]:
                _late.append(signum)
            else:
                raise _exception(signum)


def outputs_published() -> None:
    """The command's outputs are in place: from now on a signal is noted, not raised."""
    _published[0] = True


def is_published() -> bool:
    return _published[0]


def late_signals() -> list[int]:
    """Signals that arrived after the outputs were published (and did not stop the command)."""
    return list(_late)


def reset() -> None:
    """A fresh command: nothing published, nothing pending (tests run several in one process)."""
    _depth[0] = 0
    _pending.clear()
    _published[0] = False
    _late.clear()
