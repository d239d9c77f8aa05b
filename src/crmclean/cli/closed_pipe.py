"""A closed stdout or stderr pipe (`crmclean ... | head -1`) ends the command the Unix way:
silently, with exit 141 (128 + SIGPIPE), after its temp folder and lock are removed.

Python ignores SIGPIPE, so a write to a pipe whose reader has gone raises BrokenPipeError.
Left alone it would become exit 1 ("data failed": rich and click both exit 1 on it) or 3, and
Python's last flush would print "Exception ignored" on stderr. The error boundary
(crmclean.cli.app) lets it rise through every `finally` and then calls `exit_pipe_closed`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator

import rich.console
import typer

from crmclean.errors import ExitCode


class Console(rich.console.Console):
    """rich's Console, but a closed pipe raises BrokenPipeError instead of exiting with 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # rich drops what it still holds
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def exit_pipe_closed() -> typer.Exit:
    """Point stdout and stderr at /dev/null, so nothing more is written and Python's final
    flush stays silent; the Exit to raise (141)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
        except (OSError, ValueError):  # a test runner's captured stream: nothing to redirect
            continue
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
    return typer.Exit(int(ExitCode.PIPE_CLOSED))


def flush_std_streams() -> None:
    """Flush what waits in stdout and stderr now, so a closed pipe is seen inside the error
    boundary and not by the interpreter on its way out."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(ValueError):  # already closed
            stream.flush()


@contextlib.contextmanager
def closed_pipe_exits() -> Iterator[None]:
    """Turn a closed pipe anywhere in the block into exit 141, silently."""
    try:
        try:
            yield
        finally:  # also when the command exits with its own code: the flush may find the pipe
            flush_std_streams()
    except BrokenPipeError:
        raise exit_pipe_closed() from None
