"""Options shared by several commands, declared once: one vocabulary for every command
(`--out/-o`, `--format/-f`, `--quiet/-q`, `--encoding`, `--delimiter`, `--show-values`)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from crmclean.errors import UsageError


class Format(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"


class TableOrJson(StrEnum):
    """--format of the commands that print a table for people or JSON for tools."""

    table = "table"
    json = "json"


ProfileFormat = TableOrJson  # the name profile_cmd knows it by

TableOrJsonOpt = Annotated[
    TableOrJson, typer.Option("--format", "-f", help="table for people, json for tools.")
]


InputArg = Annotated[
    str,
    typer.Argument(
        help="Customer data: a CSV, Parquet, NDJSON or Excel file ('-' reads standard input), "
        "or a database URL (postgresql://user@host/db?table=schema.table, "
        "sqlite:///file.db?table=t, duckdb:///file.duckdb?query=SELECT ...).",
        show_default=False,
    ),
]
RulesOpt = Annotated[
    Path, typer.Option("--rules", "-r", help="The YAML rule file.", show_default=False)
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Folder to write outputs into (atomically).")
]
ShowValuesOpt = Annotated[
    bool,
    typer.Option("--show-values", help="Show personal values unmasked in reports and output."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr (for cron).")]
EncodingOpt = Annotated[
    str | None,
    typer.Option(help="Text encoding of a CSV input (detected if not given).", show_default=False),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        help="CSV delimiter of the input: , ; | or tab (detected if not given).",
        show_default=False,
    ),
]

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The run's clock, an ISO date-time (2026-12-07T06:00, UTC unless it names an "
        "offset): not_in_future and the other date checks read it instead of now, so the same "
        "input and clock give byte-identical outputs.",
        show_default=False,
    ),
]


def as_of_clock(given: str | None) -> datetime | None:
    """--as-of as an aware datetime (UTC when no offset is given); None: the wall clock."""
    if given is None:
        return None
    hint = "write it as 2026-12-07 or 2026-12-07T06:00 (UTC) or 2026-12-07T06:00+01:00"
    try:
        clock = datetime.fromisoformat(given.strip())
        clock = clock.replace(tzinfo=UTC) if clock.tzinfo is None else clock.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 in UTC
        raise UsageError(f"--as-of {given!r} is not an ISO date-time", hint=hint) from None
    # windows and ages are reckoned back and forth from the clock: keep it where dates live
    if not AS_OF_YEARS[0] <= clock.year <= AS_OF_YEARS[1]:
        raise UsageError(
            f"--as-of {given!r} is out of range (years {AS_OF_YEARS[0]} to {AS_OF_YEARS[1]})",
            hint=hint,
        )
    return clock


AS_OF_YEARS = (1900, 2999)


DELIMITER_WORDS = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}


def delimiter_char(given: str | None) -> str | None:
    """--delimiter as one character: `;`, or a word for it (`semicolon`, `tab`)."""
    if given is None:
        return None
    chosen = DELIMITER_WORDS.get(given.lower(), given)
    if len(chosen) != 1:
        raise UsageError(f"--delimiter {given!r}: must be one character", "try , ; | or tab")
    return chosen


def examples(*lines: str, doc: str) -> str:
    """The end of a command's --help: real examples and the docs page to read.

    `\\b` keeps click from rewrapping the block."""
    shown = "\n".join(f"  {line}" for line in lines)
    return f"\b\nExamples:\n{shown}\n\nMore: {doc}"
