"""Options shared by several commands, declared once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


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
        help="Customer data: a CSV, Parquet, NDJSON or Excel file, or a database URL "
        "(postgresql://user@host/db?table=schema.table, sqlite:///file.db?table=t, "
        "duckdb:///file.duckdb?query=SELECT ...).",
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
