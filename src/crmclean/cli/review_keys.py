"""Keys for the review screen. On a POSIX terminal the session stays in cbreak mode from the
first pair to the last: a key typed while the next pair is still being drawn is kept, where
switching the terminal to raw mode for each key (click's getchar) flushes it away."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer


@contextmanager
def key_reader() -> Iterator[Callable[[], str]]:
    """A function that returns the next key; Ctrl-C stays a KeyboardInterrupt, end of input an
    EOFError."""
    stdin = sys.stdin
    if os.name == "nt" or not stdin.isatty():
        yield typer.getchar
        return
    import termios
    import tty

    fd = stdin.fileno()
    before = termios.tcgetattr(fd)
    tty.setcbreak(fd, termios.TCSANOW)  # TCSANOW: keys already typed are not thrown away

    def read() -> str:
        data = os.read(fd, 1)  # one byte: keys typed ahead ("yn") are each a decision
        if not data:
            raise EOFError
        return data.decode("ascii", errors="replace")

    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, before)
