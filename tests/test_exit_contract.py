"""One contract for exit codes: a rule problem gets the same exit code and the same located
message from every command that meets it, because every command compiles the rule file against
the data through the one setup step (config/rule_setup.py -> core.rule_plan).

The table below is the contract: each row is a rule problem, the commands it applies to (all
four that read data, unless the problem shows only when checks run), whether `rules check`
(no data) finds it too, and the YAML path and words the message must hold.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

runner = CliRunner()

DATA = """\
customer_id,first_name,last_name,email,phone,age,city
C1,Anna,Müller,anna@example.com,(0177) 7691-5657,34,Berlin
C2,Anna,Mueller,anna@example.com,+49 177 7691565,34,Berlin
C3,Bernd,Schmidt,bernd@example.com,030 1234567,51,Bonn
C4,Clara,Fischer,clara@example.com,,28,Köln
"""

BASE = """\
version: 1
dataset: {{id_column: customer_id}}
columns:
  customer_id: {{required: true}}
  last_name: {{standardise: [trim, lower]}}
{columns}
checks:
{checks}
matching:
  blocking: [[last_name]]
  comparisons:
    - {{name: first_name, column: {compare}, levels: [null, exact, else]}}
{survivorship}
"""

ALL = ("validate", "clean", "dedupe", "run")
CHECKING = ("validate", "run")  # the commands that run the checks on the values

# name: (rule file parts, commands, rules check finds it, expected message)
PROBLEMS: dict[str, tuple[dict[str, str], tuple[str, ...], bool, str]] = {
    "expression fails on the values (strict CAST)": (
        {"checks": '  - {type: expression, expr: "CAST(phone AS INTEGER) > 0"}'},
        CHECKING,
        False,
        " checks[0].expr: fails on the data: conversion from `str` to `i32` failed",
    ),
    "expression does not type-check on the data": (
        {"checks": "  - {type: expression, expr: first_name > 5}"},
        ALL,
        False,
        " checks[0].expr: 'first_name > 5' cannot run: cannot compare string with numeric",
    ),
    "type: integer on a column of other values": (
        {"columns": "  phone: {type: integer}"},
        ALL,
        False,
        " columns.phone.type: column 'phone' is integer, but 3 value(s) are not an integer"
        " (the first at ",
    ),
    "pattern over the regex engine's size limit": (
        {"columns": '  phone: {checks: [{type: pattern, pattern: "\\\\w{300}"}]}'},
        ALL,
        True,
        "columns.phone.checks[0].pattern: regex '\\\\w{300}' is refused by the engine: "
        "Compiled regex exceeds size limit",
    ),
    "SQL regex over the engine's size limit": (
        {"checks": "  - {type: expression, expr: \"regexp_like(phone, '\\\\w{300}')\"}"},
        ALL,
        True,
        " checks[0].expr: regex '\\\\w{300}' is refused by the engine: Compiled regex exceeds",
    ),
    "a check on a column the data lacks": (
        {"columns": "  fax: {checks: [not_null]}"},
        ALL,
        False,
        " columns.fax: column 'fax' is not in the data",
    ),
    "matching compares a column the data lacks": (
        {"compare": "first_nme"},
        ALL,
        False,
        "matching.comparisons[0].column: no column 'first_nme' in the data",
    ),
    "survivorship names a column the data lacks": (
        {"survivorship": "survivorship:\n  columns:\n    citty: [most_complete]"},
        ALL,
        False,
        "survivorship.columns.citty: no such column",
    ),
}


def rule_file(folder: Path, parts: dict[str, str]) -> Path:
    values = {"columns": "", "checks": "  - {type: row_count, min: 1}", "compare": "first_name"}
    values["survivorship"] = ""
    values.update(parts)
    path = folder / "rules.yaml"
    path.write_text(BASE.format(**values), encoding="utf-8")
    return path


def invoke(command: str, data: Path, rules: Path, out: Path) -> tuple[int, list[str]]:
    args = [command, str(data), "--rules", str(rules)]
    if command != "validate":
        args += ["--out", str(out)]
    result = runner.invoke(app, args)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr.strip().splitlines()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(DATA, encoding="utf-8")
    return path


def test_the_base_rule_file_fits_the_data_in_every_command(tmp_path: Path, data: Path) -> None:
    """The table's rule files differ from this one by the problem alone."""
    rules = rule_file(tmp_path, {})
    for command in ALL:
        code, lines = invoke(command, data, rules, tmp_path / f"out-{command}")
        assert code == 0, (command, lines)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_a_rule_problem_gets_the_same_answer_from_every_command(
    name: str, tmp_path: Path, data: Path
) -> None:
    parts, commands, found_without_data, expected = PROBLEMS[name]
    rules = rule_file(tmp_path, parts)
    answers = {}
    for command in commands:
        code, lines = invoke(command, data, rules, tmp_path / f"out-{command}")
        answers[command] = (code, lines)
        assert code == 2, (command, lines)
        assert len(lines) == 1 and lines[0].startswith(f"crmclean: error: {rules}:"), lines
        assert expected in lines[0], (command, lines[0])
        assert "crmclean bug" not in lines[0]
        assert not (tmp_path / f"out-{command}").exists()  # nothing written
    assert len({tuple(lines) for _, lines in answers.values()}) == 1, answers  # word for word
    check = runner.invoke(app, ["rules", "check", str(rules)])
    if found_without_data:
        assert check.exit_code == 2
        assert check.stderr.strip().splitlines() == answers[commands[0]][1]
    else:
        assert check.exit_code == 0, check.stderr


def test_no_personal_value_in_the_message_of_an_expression_failing_on_values(
    tmp_path: Path, data: Path
) -> None:
    parts = {"checks": '  - {type: expression, expr: "CAST(phone AS INTEGER) > 0"}'}
    _, lines = invoke("run", data, rule_file(tmp_path, parts), tmp_path / "out")
    assert "7691" not in lines[0] and "1234567" not in lines[0]


def test_a_declared_type_is_the_type_every_command_checks(tmp_path: Path, data: Path) -> None:
    """`type: integer` reads the column as numbers in validate as it does in run."""
    parts = {
        "columns": "  age: {type: integer}",
        "checks": "  - {type: expression, expr: age >= 18}",
    }
    rules = rule_file(tmp_path, parts)
    for command in ALL:
        code, lines = invoke(command, data, rules, tmp_path / f"out-{command}")
        assert code == 0, (command, lines)


DECISIONS_SELF = "record_id_l,record_id_r,decision\nC1,C2,match\nC3,C3,match\n"
DECISIONS_BAD = "record_id_l,record_id_r,decision\nC1,C2,perhaps\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DECISIONS_SELF, "1 decision(s) pair a record with itself (line(s) 3)"),
        (DECISIONS_BAD, "decision must be match or no_match (line(s) 2)"),
    ],
)
def test_a_bad_decisions_file_gets_the_same_answer_from_dedupe_and_run(
    tmp_path: Path, data: Path, text: str, expected: str
) -> None:
    rules = rule_file(tmp_path, {})
    text_rules = rules.read_text(encoding="utf-8").replace(
        "matching:\n", "matching:\n  decisions: decisions.csv\n"
    )
    rules.write_text(text_rules, encoding="utf-8")
    (tmp_path / "decisions.csv").write_text(text, encoding="utf-8")
    answers = [invoke(c, data, rules, tmp_path / f"out-{c}") for c in ("dedupe", "run")]
    for code, lines in answers:
        assert code == 2, lines
        assert lines == [
            f"crmclean: error: {tmp_path / 'decisions.csv'}: {expected} "
            "(fix or remove the offending rows (see docs/matching.md#decisions))"
        ]
