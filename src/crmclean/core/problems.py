"""The one type of rule-file problem found against data, and the one error that carries them.

Every setup step (cleaning, checks, matching, survivorship, column types, regexes) reports a
SetupProblem with its YAML path; RuleSetupError is a ConfigError (exit 2) whose issues are
located in the rule file by the Locator the shell hands in (file:line:col), so a problem gets
the same answer whichever command meets it, and whenever: at setup or while checks run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from crmclean.errors import (
    ConfigError,
    ConfigIssue,
    looks_like_column_name,
    shown_column_names,
)

YamlPath = tuple[str | int, ...]


class SetupProblem(NamedTuple):
    """A rule that does not fit the data, located by its path in the rule file."""

    path: YamlPath
    problem: str
    hint: str | None = None


Locator = Callable[[SetupProblem], ConfigIssue]

_SHOWN_COLUMNS = 12


def missing_column_hint(name: str, present: Sequence[str]) -> str:
    """The fix for a column the rule file names and the data lacks: a close name if there is
    one, else where the fix lies (the data or the rule file) and what the data does have."""
    columns = [c for c in present if c != "record_id"]
    close = difflib.get_close_matches(name, columns, n=2, cutoff=0.6)
    close = [c for c in close if looks_like_column_name(c)]
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = shown_column_names(columns, most=_SHOWN_COLUMNS)
    return f"add it to the data, or take it out of the rule file; the data has: {shown}"


def format_path(path: YamlPath) -> str:
    """`columns.email.checks[0].pattern`, as the loader prints YAML paths."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def unlocated(problem: SetupProblem) -> ConfigIssue:
    """For callers without a rule file on disk (the Python API, tests): the path alone."""
    return ConfigIssue("rule file", None, None, format_path(problem.path), *problem[1:])


class RuleSetupError(ConfigError):
    """The rule file does not fit the data: every problem, each with its YAML path (exit 2)."""

    def __init__(self, problems: Sequence[SetupProblem], locate: Locator = unlocated) -> None:
        self.problems = list(dict.fromkeys(SetupProblem(*p) for p in problems))
        super().__init__([locate(p) for p in self.problems])

    def located(self, locate: Locator) -> RuleSetupError:
        """The same problems, placed in the rule file by `locate`."""
        return RuleSetupError(self.problems, locate)


def engine_reason(exc: BaseException) -> str:
    """The first line of a polars error, without the data values it quotes (personal data)."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    line = re.sub(r"(values?|found)\s*:\s*\[.*$", r"\1", line)  # `... for 40 values: ["(0177)..."]`
    return line if len(line) <= 200 else line[:199] + "…"
