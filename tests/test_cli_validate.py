"""`crmclean validate`: exit codes, JSON and JUnit output, --out files, and bad input."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]

HEADER = (
    "customer_id,source_system,salutation,first_name,last_name,company,email,phone,street,"
    "postcode,city,country,date_of_birth,created_at,updated_at"
)
GOOD = [
    "C1,crm,Herr,Thomas,Müller,,thomas.mueller@gmx.de,+49 30 1234567,Hauptstr. 1,10115,Berlin,"
    "DE,1980-01-02,2024-01-01T10:00:00,2026-01-01T10:00:00",
    "C2,shop,Mrs,Jane,Smith,ACME Ltd,jane@example.co.uk,+44 20 7946 0958,1 High St,SW1A 1AA,"
    "London,GB,02.03.1975,2024-02-01 09:00:00,2026-01-02 09:00:00",
]
BAD = (
    "C3,crm,Herr,=cmd,Meier,,jon@@example.com,+4930123456,Weg 2,1011,Bonn,Germany,1990-01-01,"
    "2024-01-01,2024-01-01"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write(tmp_path / "customers.csv", "\n".join([HEADER, *GOOD, BAD]) + "\n")


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write(tmp_path / "good.csv", "\n".join([HEADER, *GOOD]) + "\n")


RULES = """
dataset: {id_column: customer_id, country_column: country}
columns:
  customer_id: {required: true, unique: true}
  first_name: {pii: true}
  email:
    type: email
    pii: true
    checks: [email_valid]
  postcode:
    checks: [{type: postcode_valid, severity: warn}]
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return write(tmp_path / "rules.yaml", RULES)


def invoke(*args: object) -> object:
    return runner.invoke(app, ["validate", *map(str, args)])


def test_clean_data_exits_0_with_a_plain_table(good: Path, rules: Path) -> None:
    result = runner.invoke(app, ["validate", str(good), "--rules", str(rules)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["rule", "check", "column"]
    assert "email.email_valid" in result.stdout
    assert "score 100.0/100" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes


def test_failing_error_rule_exits_1_and_json_is_masked(data: Path, rules: Path) -> None:
    result = runner.invoke(app, ["validate", str(data), "-r", str(rules), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["schema_version"] == "1"
    assert report["input"]["rows"] == 3
    assert len(report["rule_file_sha256"]) == 64
    by_id = {r["rule_id"]: r for r in report["results"]}
    email = by_id["email.email_valid"]
    assert (email["status"], email["violations"], email["checked"]) == ("fail", 1, 3)
    assert email["samples"] == [
        {"record_id": "C3", "value": "j***@example.com", "message": email["samples"][0]["message"]}
    ]
    assert by_id["postcode.postcode_valid"]["status"] == "warn"
    assert report["summary"]["exit_code"] == 1
    assert report["summary"]["failed"] == 1
    assert 0 <= report["score"] <= 100


def test_show_values_unmasks(data: Path, rules: Path) -> None:
    result = invoke(data, "-r", rules, "-f", "json", "--show-values")
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    samples = {r["rule_id"]: r["samples"] for r in report["results"]}
    assert samples["email.email_valid"][0]["value"] == "jon@@example.com"
    assert report["values_masked"] is False


def test_fail_on_warn(tmp_path: Path, data: Path) -> None:
    rules = write(
        tmp_path / "warn.yaml",
        "dataset: {country_column: country}\n"
        "columns:\n  postcode: {checks: [{type: postcode_valid, severity: warn}]}\n",
    )
    assert invoke(data, "-r", rules).exit_code == 0  # type: ignore[attr-defined]
    assert invoke(data, "-r", rules, "--fail-on", "warn").exit_code == 1  # type: ignore[attr-defined]


def test_junit_has_one_testcase_per_rule(data: Path, rules: Path) -> None:
    result = runner.invoke(app, ["validate", str(data), "-r", str(rules), "-f", "junit"])
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [
        "customer_id.not_null",
        "customer_id.unique",
        "email.email_valid",
        "postcode.postcode_valid",
    ]
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["email.email_valid"]
    assert root.find("testsuite").get("failures") == "1"  # type: ignore[union-attr]


def test_out_writes_violations_and_the_json_report(tmp_path: Path, data: Path) -> None:
    rules = write(
        tmp_path / "r.yaml",
        "columns:\n  first_name: {checks: [{type: length, max: 3}]}\n"
        "  phone: {checks: [{type: length, max: 3}]}\n",
    )
    out = tmp_path / "out"
    result = invoke(data, "-r", rules, "--out", out, "--quiet")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert {p.name for p in out.iterdir()} >= {
        "violations.parquet",
        "violations.csv",
        "validate.json",
        "report.html",
        "report.json",
    }
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "length" in html and "<svg" in html
    parquet = pl.read_parquet(out / "violations.parquet")
    assert parquet.height == 6
    with (out / "violations.csv").open(encoding="utf-8") as handle:
        values = [row["value"] for row in csv.DictReader(handle)]
    assert "'=cmd" in values  # a formula is neutralised
    assert "+4930123456" in values  # an E.164 phone stays intact
    assert '"+4930123456"' in (out / "violations.csv").read_text(encoding="utf-8")
    report = json.loads((out / "validate.json").read_text(encoding="utf-8"))
    assert report["summary"]["violations"] == 6


def test_out_validate_json_is_the_json_printed(tmp_path: Path, data: Path, rules: Path) -> None:
    out = tmp_path / "out"
    result = invoke(data, "-r", rules, "-f", "json", "--out", out)
    written = (out / "validate.json").read_text(encoding="utf-8")
    assert written == result.stdout  # type: ignore[attr-defined]


def test_company_rules_fit_the_customer_columns(good: Path) -> None:
    result = invoke(good, "-r", REPO / "rules" / "company.yaml", "-f", "json")
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    statuses = {r["rule_id"]: r["status"] for r in report["results"]}
    assert statuses["enough_customers"] == "fail"  # two rows are too few
    assert statuses["email.email_valid"] == "pass"
    team = invoke(good, "-r", REPO / "rules" / "team-emea.yaml", "-f", "json")
    assert json.loads(team.stdout)["rule_files"][0].endswith("company.yaml")  # type: ignore[attr-defined]


def test_values_from_reads_a_csv_beside_the_rule_file(tmp_path: Path, data: Path) -> None:
    write(tmp_path / "countries.csv", "code,name\nDE,Germany\nGB,United Kingdom\n")
    rules = write(
        tmp_path / "r.yaml",
        "columns:\n  country:\n    checks:\n"
        "      - {type: allowed_values, values_from: countries.csv, column: code}\n",
    )
    result = invoke(data, "-r", rules, "-f", "json", "--show-values")
    (rule,) = json.loads(result.stdout)["results"]  # type: ignore[attr-defined]
    assert rule["samples"][0]["value"] == "Germany"  # the reference lists codes only


def error_lines(result: object) -> list[str]:
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    return result.stderr.strip().splitlines()  # type: ignore[attr-defined]


BAD_RULES = {
    "unknown check type": (
        "columns:\n  email:\n    checks: [{type: emial_valid}]\n",
        ":3:14 columns.email.checks[0]: unknown type 'emial_valid' (did you mean 'email_valid'",
    ),
    "wrong value type": (
        "columns:\n  email:\n    checks:\n      - {type: length, max: lots}\n",
        ":4:24 columns.email.checks[0].max: input should be a valid integer",
    ),
    "yaml syntax error": ("columns:\n  email: [\n", ":3:1: YAML syntax error"),
    "regex that does not compile": (
        "columns:\n  email:\n    checks:\n      - type: pattern\n        pattern: '[a-'\n",
        ":5:9 columns.email.checks[0].pattern: regex '[a-' does not compile",
    ),
    "expression that does not parse": (
        "checks:\n  - type: expression\n    expr: 'email >> ('\n",
        ":3:5 checks[0].expr: 'email >> (' is not a valid SQL expression",
    ),
    "expression naming a missing column": (
        "checks:\n  - type: expression\n    expr: emial IS NOT NULL\n",
        ":3:5 checks[0].expr: column 'emial' is not in the data (did you mean 'email'?)",
    ),
    "expression failing on a value": (
        "checks:\n  - type: expression\n    expr: CAST(customer_id AS INTEGER) > 0\n",
        ":3:5 checks[0].expr: fails on the data: conversion from `str` to `i32` failed",
    ),
    "values_from file that does not exist": (
        "columns:\n  country:\n    checks:\n      - type: allowed_values\n"
        "        values_from: nope.csv\n        column: code\n",
        ":5:9 columns.country.checks[0].values_from: cannot use nope.csv: ",
    ),
    "check on a column cleaning does not make": (
        "columns:\n  phone:\n    standardise: [{type: phone, extension_column: phone_extension}]\n"
        "checks:\n  - {type: not_null, column: phone_ext, on: standardised}\n",
        ":5:22 checks[0].column: column 'phone_ext' is not in the data (did you mean "
        "'phone_extension' or 'phone'?)",
    ),
    "standardised check whose steps cannot run": (
        "columns:\n  fone: {standardise: [trim]}\n  email:\n"
        "    checks: [{type: email_valid, on: standardised}]\n",
        ":2:3 columns.fone: column 'fone' is not in the data (did you mean 'phone'?)",
    ),
    "unknown on value": (
        "columns:\n  email:\n    checks:\n      - {type: email_valid, on: cleaned}\n",
        ":4:29 columns.email.checks[0].on: input should be 'raw' or 'standardised'",
    ),
    "check on a missing column": (
        "columns:\n  e_mail:\n    checks: [email_valid]\n",
        ":2:3 columns.e_mail: column 'e_mail' is not in the data (did you mean 'email'?)",
    ),
}


@pytest.mark.parametrize("name", list(BAD_RULES))
def test_bad_rule_files_give_one_located_line_and_exit_2(
    name: str, tmp_path: Path, data: Path
) -> None:
    text, expected = BAD_RULES[name]
    rules = write(tmp_path / "bad.yaml", text)
    result = invoke(data, "-r", rules)
    lines = error_lines(result)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"crmclean: error: {rules}{expected}"), lines[0]


def test_extends_cycle_exit_2(tmp_path: Path, data: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    result = invoke(data, "-r", tmp_path / "a.yaml")
    (line,) = error_lines(result)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "extends cycle" in line


def test_missing_input_file_exit_3(tmp_path: Path, rules: Path) -> None:
    result = invoke(tmp_path / "nope.csv", "-r", rules)
    (line,) = error_lines(result)
    assert result.exit_code == 3  # type: ignore[attr-defined]
    assert line.startswith("crmclean: error: ") and "nope.csv: file not found" in line


def test_bad_option_value_exit_2(data: Path, rules: Path) -> None:
    result = invoke(data, "-r", rules, "--format", "xml")
    assert result.exit_code == 2  # type: ignore[attr-defined]


STANDARDISED = r"""
dataset: {id_column: customer_id, country_column: country}
columns:
  phone:
    standardise: [{type: phone, extension_column: phone_extension}]
    checks:
      - {type: pattern, pattern: '\+[1-9][0-9]{6,14}', id: e164_as_read}
      - type: pattern
        pattern: '\+[1-9][0-9]{6,14}'
        id: e164_standardised
        on: standardised
checks:
  - {type: not_null, column: phone_extension, on: standardised, severity: info}
"""


def test_checks_on_standardised_values(tmp_path: Path) -> None:
    data = write(
        tmp_path / "phones.csv",
        "customer_id,phone,country\nC1,030 1234567,DE\nC2,+49 30 1234567 ext. 12,DE\n"
        "C3,call me,DE\n",
    )
    rules = write(tmp_path / "rules.yaml", STANDARDISED)
    result = invoke(data, "-r", rules, "-f", "json", "--show-values")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    by_id = {r["rule_id"]: r for r in report["results"]}
    samples = {k: [(s["record_id"], s["value"]) for s in r["samples"]] for k, r in by_id.items()}
    assert samples["e164_as_read"] == [
        ("C1", "030 1234567"),
        ("C2", "+49 30 1234567 ext. 12"),
        ("C3", "call me"),
    ]
    # the phone step's E.164 values pass; what it could not read keeps its text and fails
    assert samples["e164_standardised"] == [("C3", "call me")]
    # a column only the standardise steps fill can be checked
    assert [r for r, _ in samples["phone_extension.not_null"]] == ["C1", "C3"]
    assert by_id["phone_extension.not_null"]["checked"] == 3
