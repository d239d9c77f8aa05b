"""`crmclean profile` through the CLI: JSON and table output, masking, and every bad input as one
line on stderr with exit code 3 and no traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config import load_rules

runner = CliRunner()

CUSTOMERS = (
    "kunden_nr;email;plz;telefon;status;ort\n"
    "1;anna@example.de;01067;+49 351 1234567;active;Dresden\n"
    "2;ben@example.com;10115;030 1234567;active;Berlin\n"
    "3;;80331;+49 89 7654321;inactive;München\n"
    "4;dora@example.org;01067;;active;Dresden\n"
    "5;emil@example.de;01067;0351 998877;active;Dresden\n"
    "6;fritz@example.de;10115;+49 30 555555;active;Berlin\n"
    "7;gina@example.de;20095;040 123456;inactive;Hamburg\n"
    "8;hans@example.de;01067;0351 112233;active;Dresden\n"
)


def customers(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="cp1252")
    return path


def profile_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["profile", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["columns"]}


def test_json_profile(tmp_path: Path) -> None:
    document = profile_json(str(customers(tmp_path)))
    assert document["rows"] == 8
    assert document["input"]["delimiter"] == ";"
    columns = by_name(document)
    assert list(columns) == ["kunden_nr", "email", "plz", "telefon", "status", "ort"]
    email = columns["email"]
    assert (email["nulls"], email["null_share"], email["distinct"]) == (1, 0.125, 7)
    assert email["semantic_type"] == "email" and email["pii"] is True
    assert email["top_values"][0]["value"] == "a***@example.de"
    plz = columns["plz"]
    assert plz["semantic_type"] == "postcode"
    assert plz["top_values"][0] == {"value": "01067", "count": 4, "share": 0.5}
    assert plz["shapes"] == [{"value": "9+", "count": 8, "share": 1.0}]
    assert (plz["min_length"], plz["max_length"]) == (5, 5)
    assert columns["telefon"]["semantic_type"] == "phone"
    assert columns["status"]["semantic_type"] is None
    rules = document["suggested_rules"]
    assert rules["dataset"] == {"id_column": "kunden_nr"}
    status = rules["columns"]["status"]
    assert {"type": "allowed_values", "values": ["active", "inactive"]} in status["checks"]


def test_show_values_and_top(tmp_path: Path) -> None:
    columns = by_name(profile_json(str(customers(tmp_path)), "--show-values", "--top", "1"))
    assert columns["email"]["top_values"] == [
        {"value": "anna@example.de", "count": 1, "share": 0.125}
    ]
    assert columns["email"]["masked"] is False


def test_rules_decide_pii_and_id(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "dataset: {id_column: kunden_nr}\ncolumns:\n  status: {pii: true}\n  email: {}\n"
    )
    document = profile_json(str(customers(tmp_path)), "--rules", str(rules))
    columns = by_name(document)
    assert columns["status"]["masked"] is True
    assert columns["status"]["top_values"][0]["value"] == "a***"
    assert columns["email"]["masked"] is False  # the rule file says it is not personal


def test_table_output_and_suggested_yaml_loads(tmp_path: Path) -> None:
    result = runner.invoke(app, ["profile", str(customers(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "customers.csv: csv, 8 rows, 6 columns, cp1252, delimiter ';'" in result.stdout
    assert "anna@example.de" not in result.stdout
    snippet = result.stdout.split("Suggested rules (review before use):\n", 1)[1]
    (tmp_path / "suggested.yaml").write_text(snippet)
    loaded = load_rules(tmp_path / "suggested.yaml")
    assert loaded.rules.dataset.id_column == "kunden_nr"
    assert loaded.rules.columns["plz"].type == "postcode"
    assert yaml.safe_load(snippet)["columns"]["email"]["checks"] == ["unique", "email_valid"]


def test_json_equals_python_api(tmp_path: Path) -> None:
    from crmclean.core.profile import profile_frame
    from crmclean.io.readers import read_table

    path = customers(tmp_path)
    found = profile_frame(read_table(path).frame)
    assert profile_json(str(path))["columns"] == json.loads(json.dumps(found.to_dict()["columns"]))


BadInput = Callable[[Path], Path]


def _file(name: str, data: bytes) -> BadInput:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


def _huge_unclosed(folder: Path) -> Path:
    path = folder / "huge.csv"
    path.write_bytes(b'id,note\n1,ok\n2,"' + b"z" * 3_000_000 + b"\n")
    return path


BAD_INPUTS: list[tuple[str, BadInput, str]] = [
    ("missing", lambda d: d / "nope.csv", "nope.csv: file not found"),
    ("directory", lambda d: d, "is a directory, not a file"),
    ("empty", _file("e.csv", b""), "e.csv: is empty (0 bytes)"),
    ("header only", _file("h.csv", b"a,b\n"), "h.csv: has a header but no data rows"),
    ("duplicate names", _file("d.csv", b"a,b,a\n1,2,3\n"), "'a' appears twice"),
    ("blank name", _file("b.csv", b"a,,c\n1,2,3\n"), "column 2 of the header has no name"),
    ("ragged", _file("r.csv", b"a,b\n1,2\n3\n"), "r.csv:3: has 1 field(s), the header has 2"),
    ("unclosed quote", _huge_unclosed, "huge.csv:3: cannot be parsed"),
    ("mixed encoding", _file("m.csv", "a\nü\n".encode() + b"\xfc\n"), "m.csv:3:1: byte 0xfc"),
    ("binary", _file("x.csv", b"PK\x00\x00\x01\x02\x03"), "looks like a binary file"),
    ("parquet text", _file("p.parquet", b"a,b\n1,2\n"), "p.parquet: is not a Parquet file"),
]


@pytest.mark.parametrize(
    ("make", "expected"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_exit_3_one_line_no_traceback(
    tmp_path: Path, make: BadInput, expected: str
) -> None:
    result = runner.invoke(app, ["profile", str(make(tmp_path))])
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crmclean: error: "), result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.output


def test_missing_rule_columns_are_located_rule_file_errors_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("columns:\n  e_mail: {}\n  phone: {}\n  plz: {}\n")
    result = runner.invoke(app, ["profile", str(customers(tmp_path)), "--rules", str(rules)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert f"{rules}:2:3 columns.e_mail: column 'e_mail' is not in the data" in lines[0]
    assert "did you mean 'email'?" in lines[0]
    assert all(line.startswith("crmclean: error: ") for line in lines)


def test_null_id_exit_3(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("dataset: {id_column: id}\n")
    data = tmp_path / "c.csv"
    data.write_text("id,name\n1,a\n,b\n")
    result = runner.invoke(app, ["profile", str(data), "--rules", str(rules)])
    assert result.exit_code == 3
    assert f"{data}:3: id column 'id' is empty" in result.stderr


def test_bad_delimiter_option_is_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["profile", str(customers(tmp_path)), "--delimiter", ";;"])
    assert result.exit_code == 2
    assert "must be one character" in result.stderr


def test_parquet_profile(tmp_path: Path) -> None:
    pl.DataFrame({"id": [1, 2, 3], "land": ["DE", "AT", "DE"]}).write_parquet(tmp_path / "c.pq")
    columns = by_name(profile_json(str(tmp_path / "c.pq")))
    assert columns["land"]["semantic_type"] == "country"
    assert columns["id"]["semantic_type"] == "integer"
