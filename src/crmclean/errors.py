"""The error hierarchy and the exit codes every command uses.

Only the CLI entry point catches CrmcleanError; everything below raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

# A column name a message may quote: a header line of a file that is no table (a .pgpass line
# with its password, /etc/shadow's root line) is not one, and is never echoed.
_COLUMN_NAME = re.compile(r"^\w[\w .\-/()#%&+']{0,39}$")


class ExitCode(IntEnum):
    OK = 0
    DATA_FAILED = 1  # data failed an error-severity rule (or --fail-on warn)
    USAGE = 2  # bad command line or rule file
    UNREADABLE = 3  # input or output could not be read or written
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    PIPE_CLOSED = 141  # stdout or stderr was a pipe its reader closed (128 + SIGPIPE)
    TERMINATED = 143  # SIGTERM (128 + SIGTERM)


class CrmcleanError(Exception):
    """Base of every error the CLI turns into a one-line message and an exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every `finally` (temp folder, lock) runs; exit 143."""


class UsageError(CrmcleanError):
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a rule file, located as precisely as we can."""

    file: str
    line: int | None
    col: int | None
    path: str
    problem: str
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        text = f"{where} {self.path}: {self.problem}" if self.path else f"{where}: {self.problem}"
        return f"{text} ({self.hint})" if self.hint else text


class ConfigError(CrmcleanError):
    """All problems of a rule file at once, one per line."""

    exit_code = ExitCode.USAGE

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class InputError(CrmcleanError):
    """An input file is missing, unreadable or malformed (exit 3)."""

    exit_code = ExitCode.UNREADABLE

    def about(self, path: object) -> InputError:
        """The same error, naming the file it concerns (the core does not know file names)."""
        name = str(path)
        if self.message.startswith(name):
            return self
        return InputError(f"{name}: {self.message}", self.hint)


class RepeatedIds(InputError):
    """The record id column repeats values; `examples` are kept apart so a caller that knows
    the id column is personal can mask them before the message is shown or logged."""

    def __init__(self, count: int, examples: list[str], hint: str | None = None) -> None:
        self.count = count
        self.examples = examples
        shown = ", ".join(repr(v) for v in examples)
        super().__init__(f"record ids are not unique: {count:,} ids repeat (e.g. {shown})", hint)

    def with_examples(self, examples: list[str]) -> RepeatedIds:
        return RepeatedIds(self.count, examples, self.hint)


class OutputError(CrmcleanError):
    """An output could not be written (exit 3)."""

    exit_code = ExitCode.UNREADABLE


class DataFailed(CrmcleanError):
    """Data failed a rule: raised only where a command has nothing more to say."""

    exit_code = ExitCode.DATA_FAILED


def looks_like_column_name(name: str) -> bool:
    """Short, and letters, digits, spaces and a few signs: what a header's names look like."""
    return _COLUMN_NAME.match(name) is not None


def shown_column_names(names: Sequence[str], most: int = 30) -> str:
    """Column names of the data as a message quotes them: only those that look like column
    names, at most `most`, and how many others there are, never their text."""
    plain = [name for name in names if looks_like_column_name(name)]
    parts = plain[:most]
    if len(plain) > most:
        parts.append(f"{len(plain) - most} more")
    hidden = len(names) - len(plain)
    if hidden:
        parts.append(
            f"{hidden} column{'s' if hidden > 1 else ''} not shown, whose name"
            f"{'s do' if hidden > 1 else ' does'} not look like a column name "
            "(is the first line a header row of a table?)"
        )
    return ", ".join(parts) if parts else "no columns"
