"""`crmclean rules check|schema`: lint a rule file, or print its JSON Schema for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console
from crmclean.cli.rule_setup import located
from crmclean.config import load_rules
from crmclean.config.models import RuleFile
from crmclean.core.regexes import regex_problems

rules_app = typer.Typer(help="Work with rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("check")
def check(
    rule_file: Annotated[Path, typer.Argument(help="The YAML rule file to lint.")],
) -> None:
    """Validate a rule file; every problem is listed as file:line:col path: problem (hint)."""
    loaded = load_rules(rule_file)
    rules = loaded.rules
    problems = regex_problems(rules)  # what needs no data is checked here as at setup
    if problems:
        raise located(loaded, problems)
    n_checks = sum(len(c.checks) for c in rules.columns.values()) + len(rules.checks)
    stderr_console().print(
        f"{rule_file}: ok ({len(rules.columns)} columns, {n_checks} checks, "
        f"{len(loaded.files)} file(s))",
        markup=False,
    )


@rules_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the rule file (point your editor's YAML plugin at it)."""
    document = RuleFile.model_json_schema(mode="validation")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "crmclean rule file"
    typer.echo(json.dumps(document, indent=2, sort_keys=True))
