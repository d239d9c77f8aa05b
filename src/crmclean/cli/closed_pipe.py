"""A closed stdout or stderr pipe (`crmclean ... | head -1`) ends the command the Unix way:
silently, with exit 141 (128 + SIGPIPE), after its temp folder and lock are removed; unless the
command's exit code was already decided, which a reader going away must not change.

Python ignores SIGPIPE, so a write to a pipe whose reader has gone raises BrokenPipeError.
Left alone it would become exit 1 ("data failed": rich and click both exit 1 on it) or 3, and
Python's last flush would print "Exception ignored" on stderr. The error boundary
(crmclean.cli.app) lets it rise through every `finally` and then exits 141.

The code is decided once the command's outputs are published (crmclean.io.interrupts, as for
a late SIGTERM) or once the boundary reports an error, or a command its verdict
(`verdict_decided`). From then on a closed pipe silences that stream (it now writes to
/dev/null) and the command ends with its own code: the published outputs are complete, and
0 / 1 / 2 / 3 say more than 141. Before that (e.g. `clean --dry-run | head -1` while the
table, the command's output, is still being printed) it is 141.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import rich.console
import typer

from crmclean.errors import ExitCode
from crmclean.io import interrupts

_decided = [False]


def verdict_decided() -> None:
    """The exit code is fixed (an error or a verdict is being reported): a closed pipe from
    now on is ignored, and the command exits with that code."""
    _decided[0] = True


def verdict_stands() -> bool:
    """Whether a closed pipe may no longer change the exit code."""
    return _decided[0] or interrupts.is_published()


class Console(rich.console.Console):
    """rich's Console, but a closed pipe raises BrokenPipeError instead of exiting with 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # rich drops what it still holds
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


class PipeGuardedStream:
    """stdout or stderr: a closed pipe raises BrokenPipeError until the exit code is decided;
    after that it points the stream at /dev/null and the write is dropped."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: Any) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            if not verdict_stands():
                raise
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            if not verdict_stands():
                raise
            self._silence()

    def _silence(self) -> None:
        _to_devnull(self._stream)
        with contextlib.suppress(OSError, ValueError):  # what waits now goes to /dev/null
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno ...
        if name == "buffer":  # bytes written there would bypass the guard
            raise AttributeError(name)
        return getattr(self._stream, name)


def _to_devnull(stream: TextIO) -> None:
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # a test runner's captured stream: nothing to redirect
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def exit_pipe_closed(code: int = ExitCode.PIPE_CLOSED) -> typer.Exit:
    """Point stdout and stderr at /dev/null, so nothing more is written and Python's final
    flush stays silent; the Exit to raise (141, or the code already decided)."""
    for stream in (sys.stdout, sys.stderr):
        _to_devnull(stream)
    return typer.Exit(int(code))


def flush_std_streams() -> None:
    """Flush what waits in stdout and stderr now, so a closed pipe is seen inside the error
    boundary and not by the interpreter on its way out."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(ValueError):  # already closed
            stream.flush()


@contextlib.contextmanager
def streams_wrapped(wrap: Callable[[Any], Any]) -> Iterator[None]:
    """sys.stdout and sys.stderr replaced by `wrap(stream)` for the block, then put back."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = wrap(saved[0]), wrap(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def closed_pipe_exits() -> Iterator[None]:
    """Turn a closed pipe anywhere in the block into exit 141, silently; into the command's
    own code if that was decided before the pipe was found closed."""
    _decided[0] = False
    code: int | None = None  # the command's own code, once it ends
    try:
        try:
            with streams_wrapped(PipeGuardedStream):
                yield
            code = int(ExitCode.OK)
        except typer.Exit as exc:
            code = exc.exit_code
            raise
        finally:  # also when the command exits with its own code: the flush may find the pipe
            flush_std_streams()
    except BrokenPipeError:
        if code is None or not verdict_stands():  # nothing decided yet: the Unix way
            code = int(ExitCode.PIPE_CLOSED)
        raise exit_pipe_closed(code) from None
