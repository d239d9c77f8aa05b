"""`crmclean profile INPUT`: what is in a file, column by column, and rules to start from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stdout_console
from crmclean.cli.options import InputArg, ProfileFormat, ShowValuesOpt
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.core.masking import personal_columns
from crmclean.core.profile import profile_frame
from crmclean.core.registry import did_you_mean_hint
from crmclean.core.standardise.base import DEFAULT_NULL_TOKENS
from crmclean.errors import ConfigError, UsageError
from crmclean.io.locations import parse_location, read_location
from crmclean.io.readers import read_table
from crmclean.report.profile_console import profile_json, render_profile

DELIMITER_WORDS = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}


@app.command("profile")
def profile(
    input_path: InputArg,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            "-r",
            help="Rule file: its id column, its pii columns (masked) and the columns it needs.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        ProfileFormat, typer.Option("--format", "-f", help="table for people, json for tools.")
    ] = ProfileFormat.table,
    show_values: ShowValuesOpt = False,
    top: Annotated[
        int, typer.Option("--top", min=1, max=100, help="How many top values per column.")
    ] = 5,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding of a CSV file (detected if not given).", show_default=False
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            help="CSV delimiter: , ; | or tab (detected if not given).", show_default=False
        ),
    ] = None,
) -> None:
    """Profile a table: nulls, distinct values, lengths, value shapes, top values, what each
    column looks like (email, phone, date, postcode...), and suggested rules as YAML."""
    loaded = load_rules(rules) if rules is not None else None
    source = parse_location(input_path)
    id_column = loaded.rules.dataset.id_column if loaded else None
    if isinstance(source, Path):
        result = read_table(
            source, id_column=id_column, encoding=encoding, delimiter=_delimiter(delimiter)
        )
    elif encoding is not None or delimiter is not None:
        raise UsageError("--encoding and --delimiter are for CSV files, not database URLs")
    else:
        result = read_location(source, id_column=id_column)
    if loaded is not None:
        _check_rule_columns(loaded, result.frame.columns)
    pii = frozenset(personal_columns(loaded.rules)) if loaded else None
    tokens = loaded.rules.dataset.null_tokens if loaded else DEFAULT_NULL_TOKENS
    found = profile_frame(
        result.frame, top=top, pii_columns=pii, show_values=show_values, null_tokens=tokens
    )
    if output_format is ProfileFormat.json:
        typer.echo(profile_json(result.info, found))
    else:
        render_profile(stdout_console(), result.info, found)


def _check_rule_columns(loaded: LoadedRules, present: list[str]) -> None:
    """Rule-file columns the data lacks: a rule-file error (exit 2), as in validate and clean."""
    issues = [
        loaded.issue(
            ("columns", name),
            f"column {name!r} is not in the data",
            did_you_mean_hint(name, present),
        )
        for name in loaded.rules.columns
        if name not in present
    ]
    if issues:
        raise ConfigError(issues)


def _delimiter(given: str | None) -> str | None:
    if given is None:
        return None
    chosen = DELIMITER_WORDS.get(given.lower(), given)
    if len(chosen) != 1:
        raise UsageError(f"--delimiter {given!r}: must be one character", "try , ; | or tab")
    return chosen
