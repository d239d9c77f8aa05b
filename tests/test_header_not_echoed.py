"""A file that is no table (a .pgpass, /etc/shadow) given as INPUT or as a source's location:
the messages say how many columns it has, never its first line (it may hold a password)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.errors import InputError, shown_column_names
from crmclean.io.sniff import check_names

ROOT = Path(__file__).resolve().parents[1]
RULES = str(ROOT / "rules" / "company.yaml")
SECRET = "TopSecretPw1"
NOT_TABLES = {
    "pgpass": f"db.example:5432:crm:steward:{SECRET}\nother:5432:x:y:{SECRET}2\n",
    "shadow": f"root:$6$salt${SECRET}:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n",
}


@pytest.mark.parametrize("kind", sorted(NOT_TABLES))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_input_that_is_no_table_is_not_quoted(tmp_path: Path, kind: str, command: str) -> None:
    given = tmp_path / kind
    given.write_text(NOT_TABLES[kind])
    log = tmp_path / "log.jsonl"
    argv = [command, str(given), "-r", RULES]
    if command == "run":
        argv += ["-o", str(tmp_path / "out"), "--log-json", str(log)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 3, result.stderr
    assert "lacks column(s) the rules need: 'customer_id'" in result.stderr
    assert "1 column not shown" in " ".join(result.stderr.split())
    assert SECRET not in result.stderr and SECRET not in result.stdout
    if command == "run":
        events = [json.loads(line) for line in log.read_text().splitlines()]
        assert events[-1]["event"] == "run_failed"
        assert SECRET not in log.read_text()


def test_a_source_location_that_is_no_table_is_not_quoted(tmp_path: Path) -> None:
    (tmp_path / "crm.pgpass").write_text(NOT_TABLES["pgpass"])
    rules = tmp_path / "sources.yaml"
    rules.write_text(
        f"extends: {RULES}\nsources:\n  crm:\n    location: crm.pgpass\n"
        "    id_column: customer_id\n    priority: 1\n"
    )
    result = CliRunner().invoke(app, ["validate", "-r", str(rules)])
    assert result.exit_code in (2, 3), result.stderr
    assert "customer_id" in result.stderr
    assert SECRET not in result.stderr and SECRET not in result.stdout


def test_column_names_are_listed_and_what_is_no_name_is_counted() -> None:
    assert shown_column_names(["email", "first name", "PLZ"]) == "email, first name, PLZ"
    shown = shown_column_names(["email", f"x:5432:crm:u:{SECRET}", "a$b"])
    assert shown.startswith("email, 2 columns not shown") and SECRET not in shown
    assert shown_column_names([f"c{i}" for i in range(40)], most=3) == "c0, c1, c2, 37 more"
    assert "not shown" in shown_column_names(["n" * 41])


def test_a_repeated_header_cell_that_is_no_name_is_not_quoted() -> None:
    with pytest.raises(InputError) as caught:
        check_names("f", [f"u:{SECRET}", f"u:{SECRET}"])
    assert "appears twice (columns 1 and 2)" in caught.value.message
    assert SECRET not in caught.value.message


def test_a_misnamed_file_that_is_no_table_is_not_quoted(tmp_path: Path) -> None:
    fake = tmp_path / "export.parquet"
    fake.write_text(NOT_TABLES["pgpass"])
    result = CliRunner().invoke(app, ["profile", str(fake)])
    assert result.exit_code == 3, result.stderr
    assert "is not a Parquet file (it starts like text)" in result.stderr
    assert "db.example" not in result.stderr


def test_a_source_mapping_lists_only_names_of_the_sources_columns(tmp_path: Path) -> None:
    (tmp_path / "erp.csv").write_text(f"customer_id,db.example:5432:crm:u:{SECRET}\n1,x\n")
    rules = tmp_path / "sources.yaml"
    rules.write_text(
        f"extends: {RULES}\nsources:\n  erp:\n    location: erp.csv\n"
        "    id_column: customer_id\n    columns: {first_name: vorname}\n    priority: 1\n"
    )
    result = CliRunner().invoke(app, ["validate", "-r", str(rules)])
    assert result.exit_code == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert "source 'erp' has no column 'vorname'" in said
    assert "its columns: customer_id, 1 column not shown" in said
    assert SECRET not in said


def test_a_movement_table_that_is_no_table_is_not_quoted(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(NOT_TABLES["pgpass"])
    rules = tmp_path / "value.yaml"
    rules.write_text(
        f"extends: {RULES}\nrollup:\n  tables:\n    orders:\n      file: orders.csv\n"
        "      record_id: customer_id\n      date: order_date\n      amount: net_amount\n"
        "  measures:\n    revenue_total:\n      type: sum\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["run", str(ROOT / "sample_data" / "customers.csv"), "-r", str(rules), "-o", str(out)]
    )
    assert result.exit_code == 2, result.stderr
    assert "rollup.tables.orders.record_id" in result.stderr
    assert "1 column not shown" in " ".join(result.stderr.split())
    assert SECRET not in result.stderr and SECRET not in result.stdout
