"""Entry point: takes over Ctrl-C and SIGTERM first, then imports and registers every command.

Importing polars, typer and the commands takes a noticeable moment; a signal arriving then (or
after a command has ended) must still give exit 130 / 143 and one line, never a traceback. So
this module imports nothing heavy at the top: `app` is loaded on first use (`run()` or
`from crmclean.cli.main import app`). While a command runs, crmclean.cli.app installs its own
handlers, which remove temp folders and the lock on the way out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

from crmclean.errors import ExitCode
from crmclean.io import interrupts

if TYPE_CHECKING:
    import typer

_SIGNALS = {
    signal.SIGINT: (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
    signal.SIGTERM: (ExitCode.TERMINATED, "terminated (SIGTERM)"),
}


def _outside_a_command(signum: int, frame: FrameType | None) -> None:
    """No command is running: nothing to clean up, so stop at once with the documented code."""
    if interrupts.is_published():  # a command published its outputs: its own code stands
        interrupts.interrupt(signum, frame)
        return
    code, what = _SIGNALS[signal.Signals(signum)]
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        sys.stdout.flush()
    line = f"crmclean: error: {what} while starting or ending; nothing was written\n"
    with contextlib.suppress(OSError):  # stderr a closed pipe: the code still tells
        os.write(2, line.encode())
    os._exit(int(code))


def _load() -> typer.Typer:
    from crmclean.cli import (
        clean_cmd,  # noqa: F401  (registers commands)
        dedupe_cmd,  # noqa: F401  (registers commands)
        evaluate_cmd,  # noqa: F401  (registers commands)
        explain_cmd,  # noqa: F401  (registers commands)
        match_cmd,  # noqa: F401  (registers commands)
        profile_cmd,  # noqa: F401  (registers commands)
        report_cmd,  # noqa: F401  (registers commands)
        review_cmd,  # noqa: F401  (registers commands)
        rules_cmd,  # noqa: F401  (registers commands)
        run_cmd,  # noqa: F401  (registers commands)
        serve_cmd,  # noqa: F401  (registers commands)
        synth_cmd,  # noqa: F401  (registers commands)
        validate_cmd,  # noqa: F401  (registers commands)
    )
    from crmclean.cli.app import app as loaded

    return loaded


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return _load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    for signum in _SIGNALS:
        signal.signal(signum, _outside_a_command)
    _load()()


if __name__ == "__main__":
    run()
