"""The typer app and its single error boundary.

Only here is CrmcleanError turned into a one-line message on stderr and a documented exit code.
Tracebacks appear only with --debug; locals are never shown (they hold personal data).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from typer._click.exceptions import BadParameter, ClickException  # typer vendors click
from typer.core import TyperGroup
from typer.exceptions import TyperException

from crmclean.cli.closed_pipe import Console, closed_pipe_exits, streams_wrapped, verdict_decided
from crmclean.core.masking import redact_engine_message
from crmclean.errors import CrmcleanError, ExitCode, Terminated
from crmclean.io import interrupts
from crmclean.io.env_values import ScrubbedStream, forget_all
from crmclean.version import __version__

_state = {"debug": False}


def stderr_console() -> Console:
    """Messages go to stderr; no colour when stderr is not a terminal or NO_COLOR is set."""
    return Console(stderr=True, highlight=False, no_color="NO_COLOR" in os.environ, soft_wrap=True)


# Off a terminal (a file, a pipe, `less`) a table is not cut to rich's default of 80 columns:
# it takes the width it needs, up to this (COLUMNS, when set, still wins).
PLAIN_WIDTH = 1000


def stdout_console() -> Console:
    """Results go to stdout: full width when written to a file or pipe."""
    plain = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(
        highlight=False,
        no_color="NO_COLOR" in os.environ,
        soft_wrap=True,
        width=PLAIN_WIDTH if plain else None,
    )


@contextlib.contextmanager
def _env_values_scrubbed() -> Iterator[None]:
    """stdout and stderr write a rule file's `${env.X}` values as `${env.X}` (config.env_values)."""
    forget_all()
    try:
        with streams_wrapped(ScrubbedStream):
            yield
    finally:
        forget_all()


_VALUE_ERROR = "Value error, "  # how typer words a value outside an option's choices


@contextlib.contextmanager
def _usage_errors_shown() -> Iterator[None]:
    """A usage error (unknown option, missing argument) is shown here, inside the closed-pipe
    boundary, so a reader going away while it is printed keeps its exit code 2."""
    try:
        yield
    except BadParameter as exc:
        verdict_decided()
        if not exc.message.startswith(_VALUE_ERROR):
            exc.show()
        else:  # a choice: one plain sentence naming the option, not click's usage block
            option = exc.param.opts[0] if exc.param is not None and exc.param.opts else None
            command = exc.ctx.command_path if exc.ctx is not None else "crmclean"
            value = exc.message[len(_VALUE_ERROR) :].rstrip(".")
            stderr_console().print(
                f"crmclean: error: {option or 'a value'}: {value} (see {command} --help)",
                markup=False,
            )
        raise typer.Exit(exc.exit_code) from None
    except ClickException as exc:
        verdict_decided()
        exc.show()
        raise typer.Exit(exc.exit_code) from None


class ErrorBoundaryGroup(TyperGroup):
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        # `--help` and `--version` print while the line is parsed
        with closed_pipe_exits(), _usage_errors_shown():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with closed_pipe_exits(), _usage_errors_shown(), _env_values_scrubbed():
            return self._invoke(ctx)

    def _invoke(self, ctx: Any) -> Any:
        try:
            with interrupts_raised():
                return super().invoke(ctx)
        except CrmcleanError as exc:
            verdict_decided()  # a reader going away now cannot turn 2 / 3 into 141
            _traceback()
            console = stderr_console()
            for line in str(exc).splitlines() or [exc.message]:
                console.print(f"crmclean: error: {line}", markup=False)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
            verdict_decided()
            _traceback()
            code, what = (
                (ExitCode.TERMINATED, "terminated (SIGTERM)")
                if isinstance(exc, Terminated)
                else (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)")
            )
            stderr_console().print(
                f"crmclean: error: {what}; its temporary files and lock were removed",
                markup=False,
            )
            raise typer.Exit(int(code)) from None
        except (typer.Exit, typer.Abort, TyperException, BrokenPipeError):
            raise  # a closed pipe: exit 141 (or the code decided) once every `finally` ran
        except OSError as exc:
            # the file system said no (disk full, read-only, permissions) somewhere not wrapped
            verdict_decided()
            _traceback()
            where = f"{exc.filename}: " if exc.filename else ""
            stderr_console().print(
                f"crmclean: error: {where}{exc.strerror or exc} (errno {exc.errno})", markup=False
            )
            raise typer.Exit(int(ExitCode.UNREADABLE)) from None
        except Exception as exc:
            # A bug, or input we did not foresee: one line, no locals (they hold personal data).
            verdict_decided()
            _traceback()
            stderr_console().print(
                f"crmclean: error: unexpected {type(exc).__name__}: "
                f"{redact_engine_message(str(exc))[:300]} "
                "(this is a crmclean bug or an input it does not understand; "
                "rerun with --debug for the traceback and report it)",
                markup=False,
            )
            raise typer.Exit(int(ExitCode.UNREADABLE)) from None


def _traceback() -> None:
    if _state["debug"] or "--debug" in sys.argv:
        traceback.print_exc()


@contextlib.contextmanager
def interrupts_raised() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt and SIGTERM raises Terminated while a command runs, so
    temp folders and the lock are removed on the way out; the previous handlers come back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupts.reset()
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, interrupts.interrupt),
        signal.SIGTERM: signal.signal(signal.SIGTERM, interrupts.interrupt),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        late = interrupts.late_signals()
        if late:  # the outputs were complete and in place: the command's own exit code stands
            name = "SIGTERM" if late[0] == signal.SIGTERM else "Ctrl-C"
            stderr_console().print(
                f"crmclean: note: {name} arrived after the outputs were published; they are "
                "complete, and the exit code is the command's own",
                markup=False,
            )


app = typer.Typer(
    name="crmclean",
    cls=ErrorBoundaryGroup,
    help="Make customer master data trustworthy: rules, standardisation, matching, golden records.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crmclean {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback on errors (may contain data).")
    ] = False,
) -> None:
    """crmclean: trustworthy customer master data."""
    _state["debug"] = debug
