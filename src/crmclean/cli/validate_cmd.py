"""`crmclean validate INPUT --rules R`: check customer data against a rule file.

Exit codes: 0 passed (warnings allowed), 1 an error rule failed its threshold (or a warning with
--fail-on warn), 2 usage or rule-file error, 3 unreadable input or unwritable output.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.closed_pipe import verdict_decided
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
    AsOfOpt,
    DelimiterOpt,
    EncodingOpt,
    Format,
    OutOpt,
    QuietOpt,
    RulesOpt,
    ShowValuesOpt,
    as_of_clock,
    delimiter_char,
    examples,
)
from crmclean.cli.read_files import rule_file_inputs
from crmclean.config import load_rules
from crmclean.config.rule_setup import prepare
from crmclean.core.masking import MaskKind, mask_violations, personal_columns
from crmclean.core.validation import ValidationResult
from crmclean.io.writers import atomic_output_dir, write_csv, write_json, write_parquet
from crmclean.report import json_report, junit, validate_console
from crmclean.report.html import build_report


class FailOn(StrEnum):
    error = "error"
    warn = "warn"


FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="table for people, json or junit for machines.")
]
FailOnOpt = Annotated[
    FailOn, typer.Option("--fail-on", help="Lowest status that makes the exit code 1.")
]


EXAMPLES = examples(
    "crmclean validate customers.csv -r rules.yaml",
    "crmclean validate customers.csv -r rules.yaml -f junit > validate.xml",
    "crmclean validate customers.csv -r rules.yaml --out checked/ -q",
    doc="docs/validate.md",
)


@app.command("validate", epilog=EXAMPLES)
def validate_command(
    rules: RulesOpt,
    input_path: DataArg = None,
    output_format: FormatOpt = Format.table,
    out: OutOpt = None,
    fail_on: FailOnOpt = FailOn.error,
    show_values: ShowValuesOpt = False,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    engine: EngineOpt = None,
    memory: MemoryOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Check data against the rule file's checks; report per rule, write violations with --out."""
    started = datetime.now(UTC)
    clock = as_of_clock(as_of) or started  # --as-of: the same input and clock, the same output
    source = given_location(input_path)
    loaded = load_rules(rules)
    one_input(source, loaded)
    local_out(out, "validate")
    batch_rows = batches_of(engine, memory, loaded)  # a wrong engine is said before any work
    spark_input(source, engine_name(engine, loaded), "validate")  # a URI: the spark engine's
    # the one setup step: exit 2 if the rules do not fit
    data = prepare(loaded, source, encoding, delimiter_char(delimiter))
    result = data.plan.validate(
        data.frame, reference=data.reference, now=clock, batch_rows=batch_rows
    )
    facts = json_report.RunFacts(
        input=data.read.info.to_dict(),
        rule_file=str(rules),
        rule_files=loaded.files,
        rules_sha256=loaded.digest,
        started_at=started,
        finished_at=datetime.now(UTC),
        fail_on=fail_on.value,
        show_values=show_values,
    )
    pii = personal_columns(loaded.rules)
    # a typed ValidateSummary, with the rule file's ${env.X} values put back as ${env.X}
    document = loaded.scrub(json_report.build(result, facts, pii).to_dict())
    result = replace(result, violations=loaded.scrub_violations(result.violations))
    if out is not None:
        protect = [*input_files(source, loaded), *rule_file_inputs(loaded)]
        _write_outputs(out, result, document, pii, show_values, protect=protect)
    _render(result, document, output_format, fail_on, quiet)
    raise typer.Exit(result.exit_code(fail_on.value))


def _write_outputs(
    out: Path,
    result: ValidationResult,
    document: dict[str, object],
    pii: dict[str, MaskKind],
    show_values: bool,
    protect: list[Path],
) -> None:
    violations = result.violations if show_values else mask_violations(result.violations, pii)
    with atomic_output_dir(out, protect, "validate") as folder:
        write_parquet(violations, folder / "violations.parquet")
        write_csv(violations, folder / "violations.csv")
        write_json(document, folder / "validate.json")
        build_report(folder, show_values=show_values)


def _render(
    result: ValidationResult,
    document: dict[str, object],
    output_format: Format,
    fail_on: FailOn,
    quiet: bool,
) -> None:
    if output_format is Format.json:
        # the same bytes write_json puts into validate.json
        typer.echo(json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, default=str))
    elif output_format is Format.junit:
        typer.echo(junit.render(result, fail_on.value))
    elif not quiet:
        # rich knows whether stdout is a terminal; NO_COLOR is honoured by stdout_console
        validate_console.render(result, stdout_console())
    if quiet and result.exit_code(fail_on.value):
        verdict_decided()  # this line reports the verdict: a closed stderr keeps exit 1
        stderr_console().print("crmclean: " + validate_console.summary_line(result), markup=False)
