"""`crmclean match OUT (--record JSON | RECORDS)`: is a new customer already known? The candidate
golden records of the run in OUT, with match probability, the field-by-field reasons and the
decision the run's thresholds imply. Personal values are masked unless --show-values.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.entry_setup import load_entry_check, read_records
from crmclean.cli.options import (
    DelimiterOpt,
    EncodingOpt,
    QuietOpt,
    ShowValuesOpt,
    delimiter_char,
    examples,
)
from crmclean.errors import UsageError
from crmclean.report.match_answers import masked, print_answers, shown, to_json


class MatchFormat(StrEnum):
    table = "table"
    json = "json"
    ndjson = "ndjson"


EXAMPLES = examples(
    """crmclean match out/ --record '{"first_name": "Jon", "last_name": "Smith"}'""",
    "crmclean match out/ sample_data/new_leads.csv -f ndjson",
    "crmclean match out/ 'postgresql://crm@db/crm?table=public.leads' -f json",
    doc="docs/entry.md",
)


@app.command("match", epilog=EXAMPLES)
def match_command(
    out: Annotated[Path, typer.Argument(help="The --out folder of a `crmclean run`.")],
    records: Annotated[
        str | None,
        typer.Argument(
            help="New records: a file (CSV, Parquet, NDJSON, Excel) or a database URL.",
            show_default=False,
        ),
    ] = None,
    record: Annotated[
        str | None,
        typer.Option("--record", help='One new record (or a list) as JSON: {"column": value}.'),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100, help="At most this many candidates per record.")
    ] = 5,
    min_probability: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="List candidates from this probability on (default: the review threshold).",
        ),
    ] = None,
    output_format: Annotated[
        MatchFormat, typer.Option("--format", "-f", help="table, json or ndjson (one per line).")
    ] = MatchFormat.table,
    show_values: ShowValuesOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Look new records up in a run: candidate golden records, why, and the decision."""
    if (record is None) == (records is None):
        raise UsageError("give either --record JSON or a file of records, not both or neither")
    loaded = load_entry_check(out)
    if loaded.note is not None and not quiet:
        stderr_console().print(f"crmclean match: note: {loaded.note}", markup=False)
    check = loaded.check
    if record is not None:
        try:
            items = json.loads(record)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--record: not valid JSON ({exc})") from None
        frame = check.records(items)
    else:
        assert records is not None
        frame = read_records(records, check.id_column, encoding, delimiter_char(delimiter))
    answers = check.check(frame, limit=limit, min_probability=min_probability)
    answers = shown(answers) if show_values else masked(answers, loaded.pii, check.id_column)
    if output_format is MatchFormat.json:
        typer.echo(to_json(answers, indent=2))
    elif output_format is MatchFormat.ndjson:
        for answer in answers:
            typer.echo(to_json(answer))
    else:
        print_answers(stdout_console(), answers)
