"""Phones compare by their digits whatever their validity (issue 10, defect 3)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from crmclean.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "customer_id,source_system,salutation,first_name,last_name,company,email,phone,street,"
    "postcode,city,country,date_of_birth,created_at,updated_at\n"
)


def test_an_invalid_number_as_typed_blocks_and_compares_with_its_e164_twin(
    tmp_path: Path,
) -> None:
    # 446 is no US area code: phonenumbers calls the number invalid and the phone step keeps
    # "(446) 284-8536" as typed, "+1 446 284 8536" too; only their digits can meet.
    data = tmp_path / "c.csv"
    data.write_text(
        HEADER + "A1,crm,,Jane,Doe,,jane@a.com,(446) 284-8536,,,,US,,2020-01-01,2020-01-01\n"
        "A2,erp,,Jane,Doe,,doe@b.com,+1 446 284 8536,,,,US,,2020-01-01,2020-01-01\n"
        "A3,erp,,John,Roe,,roe@c.com,+1 446 284 9999,,,,US,,2020-01-01,2020-01-01\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {ROOT / 'rules' / 'company.yaml'}\n"
        "dataset: {default_region: US}\n"
        "matching:\n  thresholds: {auto_merge: 0.99, review: 0.000001}\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(rules), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    pairs = pl.read_parquet(out / "pairs.parquet")
    found = pairs.filter((pl.col("record_id_l") == "A1") & (pl.col("record_id_r") == "A2"))
    assert found.get_column("blocking_rule").to_list() == ["[phone_key]"]
    explained = CliRunner().invoke(app, ["explain", str(out), "A1", "A2", "--format", "json"])
    assert explained.exit_code == 0, explained.stderr
    assert "same phone" in explained.stdout
