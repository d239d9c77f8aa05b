"""`crmclean rules check|schema|init`: lint a rule file, print its JSON Schema for editors, or
write a starting rule file (with a matching section) chosen from a profile of the data."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console
from crmclean.cli.options import (
    DelimiterOpt,
    EncodingOpt,
    InputArg,
    QuietOpt,
    delimiter_char,
    examples,
)
from crmclean.config import load_rules
from crmclean.config.rule_setup import located
from crmclean.core.profile import profile_frame
from crmclean.core.profile.rules_init import init_rules
from crmclean.core.profile.rules_init_matching import NothingToMatch
from crmclean.core.rules.regexes import regex_problems
from crmclean.core.rules.rule_file import RuleFile
from crmclean.errors import InputError
from crmclean.io.locations import location_files, parse_location, read_location
from crmclean.io.text_files import check_new_file, write_new_text
from crmclean.report.rules_init_report import print_summary, rule_file_yaml


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


rules_app = typer.Typer(help="Work with rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command(
    "check",
    epilog=examples(
        "crmclean rules check rules.yaml",
        "crmclean rules check rules/team-emea.yaml",
        doc="docs/validate.md",
    ),
)
def check(
    rule_file: Annotated[Path, typer.Argument(help="The YAML rule file to lint.")],
    output_format: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="table: one line on stderr; json: on stdout."),
    ] = CheckFormat.table,
    quiet: QuietOpt = False,
) -> None:
    """Validate a rule file; every problem is listed as file:line:col path: problem (hint)."""
    loaded = load_rules(rule_file)
    rules = loaded.rules
    problems = regex_problems(rules)  # what needs no data is checked here as at setup
    if problems:
        raise located(loaded, problems)
    n_checks = sum(len(c.checks) for c in rules.columns.values()) + len(rules.checks)
    if output_format is CheckFormat.json:
        document = {
            "rule_file": str(rule_file),
            "ok": True,
            "columns": len(rules.columns),
            "checks": n_checks,
            "files": [str(f) for f in loaded.files],
        }
        typer.echo(json.dumps(document, indent=2))
    elif not quiet:
        stderr_console().print(
            f"{rule_file}: ok ({len(rules.columns)} columns, {n_checks} checks, "
            f"{len(loaded.files)} file(s))",
            markup=False,
        )


@rules_app.command(
    "schema",
    epilog=examples(
        "crmclean rules schema > crmclean-rules.schema.json",
        "crmclean rules schema | jq '.properties | keys'",
        doc="docs/validate.md",
    ),
)
def schema() -> None:
    """Print the JSON Schema of the rule file (point your editor's YAML plugin at it)."""
    document = RuleFile.model_json_schema(mode="validation")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "crmclean rule file"
    typer.echo(json.dumps(document, indent=2, sort_keys=True))


@rules_app.command(
    "init",
    epilog=examples(
        "crmclean rules init customers.csv --out rules.yaml",
        "crmclean rules init customers.csv > draft.yaml",
        "crmclean rules init - --out rules.yaml < export.csv",
        doc="docs/profile.md",
    ),
)
def init(
    input_path: InputArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the rule file here (stdout if not given).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a complete starting rule file for INPUT: standardisation and checks per detected
    column type, placeholders as null tokens, matching keys, blocking rules within a budget of
    candidate pairs per record, comparisons and thresholds modelled on rules/company.yaml."""
    source = parse_location(input_path)
    if out is not None:
        check_new_file(
            out, force=force, inputs=tuple(location_files(source))
        )  # before the data is read
    result = read_location(source, encoding=encoding, delimiter=delimiter_char(delimiter))
    try:
        made = init_rules(result.frame, profile_frame(result.frame))
    except NothingToMatch as exc:
        raise InputError(f"{source}: {exc}", "rules init needs names, e-mails or phones") from None
    text = rule_file_yaml(made, result.info)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_new_text(out, text, force=force, inputs=tuple(location_files(source)))
    if not quiet:
        print_summary(stderr_console(), made, str(out) if out else "stdout")
