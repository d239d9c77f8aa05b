"""`crmclean clean`: outputs, the dry run, masking, and rule-file errors with file:line:col."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config.loader import load_rules

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
COMPANY = REPO / "rules" / "company.yaml"

HEADER = (
    "customer_id,source_system,salutation,first_name,last_name,company,email,phone,street,"
    "postcode,city,country,date_of_birth,created_at,updated_at"
)
ROWS = [
    "C1,crm,hr.,  thomas ,MÜLLER,,Thomas.Mueller@GMX.de,030 1234567,Hauptstrasse 1,10115,Berlin,"
    "Deutschland,02.01.1980,2024-01-01T10:00:00,2026-01-01 10:00:00",
    "C2,shop,mrs,Bob,o'neil,ACME Ltd,bob+news@gmail.com,020 7946 0958,1 High Street,sw1a1aa,"
    "London,UK,1975-03-02,2024-02-01 09:00:00,2026-01-02T09:00:00Z",
    "C3,erp,Frau,Kathi,van der berg,,k.vdb@example.com,12,Lindenweg 3,1067,Dresden,DE,"
    "31.02.1990,2024-01-01,2024-01-01",
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def _rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_writes_outputs(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["clean", str(data), "--rules", str(COMPANY), "--out", str(out), "--csv"]
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out / "clean.parquet")
    assert frame["record_id"].to_list() == ["C1", "C2", "C3"]
    row = frame.row(0, named=True)
    assert (row["first_name"], row["last_name"], row["salutation"]) == ("Thomas", "Müller", "Herr")
    assert (row["phone"], row["country"], row["date_of_birth"]) == (
        "+49301234567",
        "DE",
        "1980-01-02",
    )
    assert row["street"] == "Hauptstr. 1" and row["last_name_key"] == "mueller"
    second = frame.row(1, named=True)
    assert second["email_key"] == "bob@gmail.com" and second["first_name_key"] == "robert"
    assert second["postcode"] == "SW1A 1AA" and second["updated_at"] == "2026-01-02T09:00:00"
    assert frame.row(2, named=True)["last_name"] == "van der Berg"
    assert frame.row(2, named=True)["postcode"] == "01067"
    changes = pl.read_parquet(out / "changes.parquet")
    assert changes.columns == ["record_id", "column", "before", "after", "step", "error"]
    failed = changes.filter(pl.col("error").is_not_null())
    assert set(failed["column"]) == {"phone", "date_of_birth"}
    summary = json.loads((out / "clean.json").read_text())
    assert summary["rows"] == 3 and summary["failures"] == 2
    slow = {(s["column"], s["step"]) for s in summary["slow_parsers"]}
    assert {("phone", "phone"), ("email", "email"), ("last_name", "person_name")} <= slow
    assert pl.read_csv(out / "clean.csv", infer_schema=False)["phone"][0] == "+49301234567"
    assert "3 rows: changed" in result.output


def test_cleaning_the_cleaned_output_changes_nothing(data: Path, tmp_path: Path) -> None:
    """clean.parquet carries `record_id` (the ids it was given): it can be cleaned again as is."""
    first, second = tmp_path / "first", tmp_path / "second"
    runner.invoke(app, ["clean", str(data), "-r", str(COMPANY), "-o", str(first)])
    result = runner.invoke(
        app, ["clean", str(first / "clean.parquet"), "-r", str(COMPANY), "-o", str(second)]
    )
    assert result.exit_code == 0, result.output
    cleaned = pl.read_parquet(first / "clean.parquet")
    assert pl.read_parquet(second / "clean.parquet").equals(cleaned)
    changes = pl.read_parquet(second / "changes.parquet")
    assert changes.filter(pl.col("error").is_null()).is_empty(), changes


def test_clean_masks_personal_values_in_changes(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner.invoke(app, ["clean", str(data), "--rules", str(COMPANY), "--out", str(out)])
    changes = pl.read_parquet(out / "changes.parquet")
    names = changes.filter(pl.col("column") == "last_name")["before"].to_list()
    assert "MÜLLER" not in names and "M***" in names
    shown = tmp_path / "shown"
    runner.invoke(app, ["clean", str(data), "-r", str(COMPANY), "-o", str(shown), "--show-values"])
    names = pl.read_parquet(shown / "changes.parquet").filter(pl.col("column") == "last_name")
    assert "MÜLLER" in names["before"].to_list()


def test_dry_run_shows_examples_and_writes_nothing(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["clean", str(data), "--rules", str(COMPANY), "--out", str(out), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert not out.exists()
    assert "would change" in result.output and "person_name" in result.output
    assert "MÜLLER" not in result.output and "impossible date" in result.output
    shown = runner.invoke(
        app, ["clean", str(data), "-r", str(COMPANY), "--dry-run", "--show-values"]
    )
    assert "MÜLLER" in shown.output


def test_clean_needs_out_or_dry_run(data: Path) -> None:
    result = runner.invoke(app, ["clean", str(data), "--rules", str(COMPANY)])
    assert result.exit_code == 2 and "--out" in result.output


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "columns:\n  first_name:\n    standardise: [trim, person_nme]\n",
            ["rules.yaml:4:25", "unknown type 'person_nme'", "did you mean 'person_name'"],
        ),
        (
            "columns:\n  phone:\n    standardise:\n      - {type: phone, fromat: E164}\n",
            ["rules.yaml:5:23", "unknown key 'fromat'", "did you mean 'format'"],
        ),
        (
            "columns:\n  phone:\n    standardise:\n      - {type: phone, default_region: XY}\n",
            ["rules.yaml:5:23", "'XY' is not a region"],
        ),
        (
            "columns:\n  last_name:\n    standardise: [metaphone]\n",
            ["rules.yaml:4:19", "'metaphone' is a key step", "derive:"],
        ),
        (
            "derive:\n  k:\n    from: last_nam\n    steps: [soundx]\n",
            ["rules.yaml:5:13", "unknown type 'soundx'", "did you mean 'soundex'"],
        ),
        (
            "columns:\n  nickname:\n    standardise: [trim]\n",
            ["rules.yaml:3:3", "column 'nickname' is not in the data"],
        ),
        (
            "derive:\n  k:\n    from: last_nam\n",
            ["rules.yaml:4:5", "derive.k.from", "did you mean 'last_name'"],
        ),
    ],
)
def test_bad_rules_exit_2_with_positions(
    data: Path, tmp_path: Path, yaml_text: str, expected: list[str]
) -> None:
    rules = _rules(tmp_path, "dataset: {id_column: customer_id}\n" + yaml_text)
    result = runner.invoke(app, ["clean", str(data), "--rules", str(rules), "--dry-run"])
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output, result.output


def test_a_missing_required_column_is_a_located_rule_file_error(data: Path, tmp_path: Path) -> None:
    rules = _rules(tmp_path, "columns:\n  loyalty_id:\n    required: true\n")
    result = runner.invoke(app, ["clean", str(data), "--rules", str(rules), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert f"{rules}:3:5 columns.loyalty_id.required: column 'loyalty_id'" in result.stderr


def test_company_rules_on_the_sample_data_are_idempotent(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    rules = str(root / "rules" / "company.yaml")
    first, second = tmp_path / "first", tmp_path / "second"
    args = ["--rules", rules, "--show-values", "--quiet", "--out"]
    source = str(root / "sample_data" / "customers.csv")
    assert runner.invoke(app, ["clean", source, *args, str(first)]).exit_code == 0
    result = runner.invoke(app, ["clean", str(first / "clean.parquet"), *args, str(second)])
    assert result.exit_code == 0, result.output
    changes = pl.read_parquet(second / "changes.parquet")
    changed = changes.filter(pl.col("before").ne_missing(pl.col("after")))
    assert changed.height == 0, changed.head(10)
    # what failed the first time still fails, and says why
    assert changes.filter(pl.col("error").is_null()).height == 0


def test_steps_that_changed_nothing_are_folded_away_but_json_lists_them() -> None:
    root = Path(__file__).resolve().parents[1]
    args = ["clean", str(root / "sample_data" / "customers.csv")]
    args += ["-r", str(root / "rules" / "company.yaml"), "--dry-run"]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    table = shown.stdout.split("\n\n")[0].splitlines()
    assert table[0].split()[:2] == ["column", "step"]
    assert all(row.split()[2] != "0" or row.split()[3] != "0" for row in table[1:]), table
    listed = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)["steps"]
    derived = set(load_rules(root / "rules" / "company.yaml").rules.derive)
    keys = [s for s in listed if s["column"] in derived and not s["failed"]]
    rest = [s for s in listed if s["column"] not in derived or s["failed"]]
    idle = [s for s in rest if not s["changed"] and not s["failed"]]
    assert idle and keys and len(table) - 1 == len(rest) - len(idle)
    assert not {row.split()[0] for row in table[1:]} & derived  # no match key step in the table
    assert f"{len(idle)} step(s) changed nothing" in shown.stdout
    built = len({s["column"] for s in keys})
    assert f"match keys (derive:): {len(keys)} step(s) built {built} column(s)" in shown.stdout
