"""`crmclean clean INPUT --rules R --out DIR`: standardise customer data by the rule file.

Writes clean.parquet (+ clean.csv with --csv), changes.parquet and clean.json into --out,
atomically; --dry-run shows what would change and writes nothing.
Exit codes: 0 done, 2 usage or rule-file error, 3 unreadable input or unwritable output.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crmclean.cli.app import app, stdout_console
from crmclean.cli.closed_pipe import Console
from crmclean.cli.data_input import (
    DataArg,
    given_location,
    input_files,
    local_out,
    one_input,
    spark_input,
)
from crmclean.cli.engine_choice import EngineOpt, MemoryOpt, batches_of, engine_name
from crmclean.cli.options import (
    DelimiterOpt,
    EncodingOpt,
    OutOpt,
    QuietOpt,
    RulesOpt,
    ShowValuesOpt,
    TableOrJson,
    TableOrJsonOpt,
    delimiter_char,
    examples,
)
from crmclean.cli.read_files import rule_file_inputs
from crmclean.config import load_rules
from crmclean.config.rule_setup import prepare
from crmclean.core.cleaning import CleanResult
from crmclean.core.masking import personal_columns
from crmclean.errors import UsageError
from crmclean.io.writers import atomic_output_dir, write_csv, write_json, write_parquet
from crmclean.report import clean_console

CsvOpt = Annotated[bool, typer.Option("--csv", help="Also write clean.csv (spreadsheet-safe).")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change, with examples; write nothing.")
]


EXAMPLES = examples(
    "crmclean clean customers.csv -r rules.yaml --dry-run",
    "crmclean clean - -r rules.yaml --out cleaned/ -f json < customers.csv",
    "crmclean clean big.csv -r rules.yaml --out cleaned/ --csv --engine duckdb --memory 4GB",
    doc="docs/clean.md",
)


@app.command("clean", epilog=EXAMPLES)
def clean_command(
    rules: RulesOpt,
    input_path: DataArg = None,
    out: OutOpt = None,
    csv: CsvOpt = False,
    dry_run: DryRunOpt = False,
    show_values: ShowValuesOpt = False,
    output_format: TableOrJsonOpt = TableOrJson.table,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    engine: EngineOpt = None,
    memory: MemoryOpt = None,
) -> None:
    """Standardise columns by their `standardise:` steps and add the `derive:` columns.

    The table folds away steps that changed nothing; --format json lists every step."""
    if out is None and not dry_run:
        raise UsageError("clean needs --out DIR (or --dry-run to only look)")
    started = datetime.now(UTC)
    source = given_location(input_path)
    loaded = load_rules(rules)
    one_input(source, loaded)
    local_out(out, "clean")
    batch_rows = batches_of(engine, memory, loaded)  # a wrong engine is said before any work
    spark_input(source, engine_name(engine, loaded), "clean")  # a URI: the spark engine's
    # the one setup step: exit 2 if the rules do not fit
    data = prepare(loaded, source, encoding, delimiter_char(delimiter))
    result = data.plan.clean(data.frame, batch_rows=batch_rows)
    facts = {
        "input": data.read.info.to_dict(),
        "rule_file": str(rules),
        "rules_sha256": loaded.digest,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "dry_run": dry_run,
    }
    # a typed CleanSummary, with the rule file's ${env.X} values put back as ${env.X}
    document = loaded.scrub(clean_console.summary_document(result, facts).to_dict())
    pii = personal_columns(loaded.rules)
    changes = result.changes if show_values else clean_console.mask_changes(result.changes, pii)
    if not dry_run and out is not None:
        protect = [*input_files(source, loaded), *rule_file_inputs(loaded)]
        _write(out, result, changes, document, csv, protect)
    if output_format is TableOrJson.json:  # clean.json's document, even with --quiet
        typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str))
    elif not quiet:
        shown = clean_console.examples(changes) if dry_run else None
        derived = frozenset(loaded.rules.derive)
        clean_console.render(document, shown, _console(), dry_run, derived)


def _write(
    out: Path,
    result: CleanResult,
    changes: pl.DataFrame,
    document: dict[str, Any],
    csv: bool,
    protect: list[Path],
) -> None:
    with atomic_output_dir(out, protect, "clean") as folder:
        write_parquet(result.frame, folder / "clean.parquet")
        if csv:
            write_csv(result.frame, folder / "clean.csv")
        write_parquet(changes, folder / "changes.parquet")
        write_json(document, folder / "clean.json")


def _console() -> Console:
    if not sys.stdout.isatty() and "FORCE_COLOR" not in os.environ:
        return Console(
            file=sys.stdout, highlight=False, no_color=True, force_terminal=False, soft_wrap=True
        )
    return stdout_console()
