"""`crmclean profile INPUT`: what is in a file, column by column, and rules to start from.
Without INPUT, `--rules` with a `sources:` section: every source read and combined as `run` does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stdout_console
from crmclean.cli.data_input import DataArg, given_location, one_input, spark_input
from crmclean.cli.options import (
    DelimiterOpt,
    EncodingOpt,
    ProfileFormat,
    QuietOpt,
    ShowValuesOpt,
    TableOrJsonOpt,
    delimiter_char,
    examples,
)
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.config.source_reads import read_sources
from crmclean.core.masking import personal_columns
from crmclean.core.problems import missing_column_hint
from crmclean.core.profile import profile_frame
from crmclean.core.standardise.base import DEFAULT_NULL_TOKENS
from crmclean.errors import ConfigError
from crmclean.io.locations import read_location
from crmclean.report.profile_console import profile_json, render_profile

EXAMPLES = examples(
    "crmclean profile customers.csv",
    "crmclean profile customers.csv -r rules.yaml --top 10",
    "crmclean profile export.csv --encoding cp1252 --delimiter ';' -f json",
    doc="docs/profile.md",
)


@app.command("profile", epilog=EXAMPLES)
def profile(
    input_path: DataArg = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            "-r",
            help="Rule file: its id column, its pii columns (masked) and the columns it needs; "
            "without INPUT, its sources: are profiled.",
            show_default=False,
        ),
    ] = None,
    output_format: TableOrJsonOpt = ProfileFormat.table,
    show_values: ShowValuesOpt = False,
    top: Annotated[
        int, typer.Option("--top", min=1, max=100, help="How many top values per column.")
    ] = 5,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Profile a table: nulls, distinct values, lengths, value shapes, top values, what each
    column looks like (email, phone, date, postcode...), and suggested rules as YAML."""
    source = given_location(input_path)
    loaded = load_rules(rules) if rules is not None else None
    one_input(source, loaded)
    spark_input(source, None, "profile")
    if source is None:
        assert loaded is not None  # one_input: no INPUT, so a rule file with sources:
        result, _ = read_sources(loaded)  # the sources combined, as `run` reads them
    else:
        result = read_location(
            source,
            id_column=loaded.rules.dataset.id_column if loaded else None,
            encoding=encoding,
            delimiter=delimiter_char(delimiter),
        )
    if loaded is not None:
        _check_rule_columns(loaded, result.frame.columns)
    pii = frozenset(personal_columns(loaded.rules)) if loaded else None
    tokens = loaded.rules.dataset.null_tokens if loaded else DEFAULT_NULL_TOKENS
    found = profile_frame(
        result.frame, top=top, pii_columns=pii, show_values=show_values, null_tokens=tokens
    )
    if output_format is ProfileFormat.json:
        typer.echo(profile_json(result.info, found))
    elif not quiet:
        render_profile(stdout_console(), result.info, found)


def _check_rule_columns(loaded: LoadedRules, present: list[str]) -> None:
    """Rule-file columns the data lacks: a rule-file error (exit 2), as in validate and clean."""
    issues = [
        loaded.issue(
            ("columns", name),
            f"column {name!r} is not in the data",
            missing_column_hint(name, present),
        )
        for name in loaded.rules.columns
        if name not in present
    ]
    if issues:
        raise ConfigError(issues)
