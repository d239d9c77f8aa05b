"""`crmclean validate INPUT --rules R`: check customer data against a rule file.

Exit codes: 0 passed (warnings allowed), 1 an error rule failed its threshold (or a warning with
--fail-on warn), 2 usage or rule-file error, 3 unreadable input or unwritable output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.options import Format, InputArg, OutOpt, QuietOpt, RulesOpt, ShowValuesOpt
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.core.masking import MaskKind, mask_violations, personal_columns
from crmclean.core.validation import (
    RuleSetupError,
    ValidationResult,
    reference_requests,
    setup_problems,
    validate,
)
from crmclean.errors import ConfigError, InputError
from crmclean.io.readers import read_reference_values, read_table
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


@app.command("validate")
def validate_command(
    input_path: InputArg,
    rules: RulesOpt,
    output_format: FormatOpt = Format.table,
    out: OutOpt = None,
    fail_on: FailOnOpt = FailOn.error,
    show_values: ShowValuesOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check data against the rule file's checks; report per rule, write violations with --out."""
    started = datetime.now(UTC)
    loaded = load_rules(rules)
    data = read_table(input_path, id_column=loaded.rules.dataset.id_column)
    _check_setup(loaded, data.frame.columns)
    try:
        result = validate(data.frame, loaded.rules, reference=_references(loaded), now=started)
    except RuleSetupError as exc:
        issues = [loaded.issue(p, problem, hint) for p, problem, hint in exc.problems]
        raise ConfigError(issues) from None
    facts = json_report.RunFacts(
        input=data.info.to_dict(),
        rule_file=str(rules),
        rule_files=loaded.files,
        rules_sha256=loaded.digest,
        started_at=started,
        finished_at=datetime.now(UTC),
        fail_on=fail_on.value,
        show_values=show_values,
    )
    pii = pii_kinds(loaded)
    document = loaded.scrub(json_report.build(result, facts, pii))
    result = replace(result, violations=loaded.scrub_violations(result.violations))
    if out is not None:
        _write_outputs(out, result, document, pii, show_values, protect=[input_path])
    _render(result, document, output_format, fail_on, quiet)
    raise typer.Exit(result.exit_code(fail_on.value))


def pii_kinds(loaded: LoadedRules) -> dict[str, MaskKind]:
    return personal_columns(loaded.rules)


def _check_setup(loaded: LoadedRules, columns: Sequence[str]) -> None:
    problems = setup_problems(loaded.rules, columns)
    if problems:
        raise ConfigError([loaded.issue(path, problem, hint) for path, problem, hint in problems])


def _references(loaded: LoadedRules) -> dict[str, list[str]]:
    """Read every values_from CSV, relative to the rule file that names it."""
    values: dict[str, list[str]] = {}
    issues = []
    for yaml_path, file, column, key in reference_requests(loaded.rules):
        where = loaded.located.where(yaml_path)
        base = Path(where[0]).parent if where else loaded.path.parent
        try:
            values[key] = read_reference_values(base / file, column)
        except InputError as exc:
            issues.append(loaded.issue(yaml_path, f"cannot use {file}: {exc.message}", exc.hint))
    if issues:
        raise ConfigError(issues)
    return values


def _write_outputs(
    out: Path,
    result: ValidationResult,
    document: dict[str, object],
    pii: dict[str, MaskKind],
    show_values: bool,
    protect: list[Path],
) -> None:
    violations = result.violations if show_values else mask_violations(result.violations, pii)
    with atomic_output_dir(out, protect=protect) as folder:
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
        stderr_console().print("crmclean: " + validate_console.summary_line(result), markup=False)
