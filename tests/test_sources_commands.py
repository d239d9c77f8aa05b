"""`validate`, `clean`, `dedupe` and `profile` without INPUT read the rule file's `sources:` as
`run` does: the same record ids (`crm:…`, `erp:…`), the same column mapping, the source column.
Neither INPUT nor `sources:`, or both, is exit 2 with what to give."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import crmclean
from crmclean.cli.main import app
from crmclean.core.contracts import RECORD_ID
from source_systems import COMPANY, rule_file, write_systems


@pytest.fixture(scope="module")
def systems(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_systems(tmp_path_factory.mktemp("systems"), rows=800)


@pytest.fixture(scope="module")
def as_run_reads(systems: Path) -> pl.DataFrame:
    """The combined table `run` takes (the API reads the sources as `run` does)."""
    return crmclean.read(None, rule_file(systems))


def invoke(*argv: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in argv])
    return result.exit_code, result.stdout, result.stderr


def test_validate_reads_the_sources(systems: Path, as_run_reads: pl.DataFrame) -> None:
    out = systems / "validated"
    code, stdout, err = invoke("validate", "-r", rule_file(systems), "-f", "json", "-o", out)
    assert code == 1, err  # the sample fails an error-severity rule on purpose
    document = json.loads(stdout)
    assert document["input"]["rows"] == as_run_reads.height == 800
    assert document["input"]["format"] == "sources"
    violations = pl.read_parquet(out / "violations.parquet").drop_nulls(RECORD_ID)  # per row
    assert violations.height > 0
    assert set(violations[RECORD_ID]) <= set(as_run_reads[RECORD_ID])
    assert set(violations[RECORD_ID].str.split(":").list.first()) == {"crm", "erp"}


def test_clean_reads_the_sources(systems: Path, as_run_reads: pl.DataFrame) -> None:
    out = systems / "cleaned"
    code, stdout, err = invoke("clean", "-r", rule_file(systems), "-o", out, "-f", "json")
    assert code == 0, err
    assert json.loads(stdout)["rows"] == 800
    cleaned = pl.read_parquet(out / "clean.parquet")
    assert cleaned[RECORD_ID].to_list() == as_run_reads[RECORD_ID].to_list()
    assert cleaned["source_system"].to_list() == as_run_reads["source_system"].to_list()
    # the ERP's vorname is the rule file's first_name; its own other columns are left out
    erp = cleaned.filter(pl.col("source_system") == "erp")
    assert erp.height > 0 and erp["first_name"].null_count() < erp.height
    assert "vorname" not in cleaned.columns and "buchungskreis" not in cleaned.columns


def test_dedupe_reads_the_sources_and_links_across_them(systems: Path) -> None:
    out = systems / "deduped"
    code, stdout, err = invoke("dedupe", "-r", rule_file(systems), "-o", out, "-f", "json")
    assert code == 0, err
    assert json.loads(stdout)["stats"]["records"] == 800
    pairs = pl.read_parquet(out / "pairs.parquet")
    left = pairs["record_id_l"].str.split(":").list.first()
    assert pairs.height > 10
    assert (left != pairs["record_id_r"].str.split(":").list.first()).all()  # link_only


def test_profile_reads_the_sources(systems: Path) -> None:
    code, stdout, err = invoke("profile", "-r", rule_file(systems), "-f", "json")
    assert code == 0, err
    profile = json.loads(stdout)
    assert profile["rows"] == 800
    columns = {c["name"] for c in profile["columns"]}
    assert {"first_name", "source_system"} <= columns and "vorname" not in columns
    system = next(c for c in profile["columns"] if c["name"] == "source_system")
    assert {v["value"] for v in system["top_values"]} == {"crm", "erp"}


@pytest.mark.parametrize("command", ["validate", "clean", "dedupe", "profile"])
def test_neither_input_nor_sources_nor_both_is_exit_2(systems: Path, command: str) -> None:
    out = ["-o", str(systems / f"never-{command}")] if command in ("clean", "dedupe") else []
    code, _, err = invoke(command, "-r", COMPANY, *out)
    assert code == 2, err
    assert "give INPUT (a file or a database URL), or a rule file with sources:" in err
    assert "has no sources: section" in err
    code, _, err = invoke(command, systems / "crm.csv", "-r", rule_file(systems), *out)
    assert code == 2 and "not both" in err
    assert not (systems / f"never-{command}").exists()


def test_profile_with_neither_a_file_nor_rules_says_what_to_give() -> None:
    code, _, err = invoke("profile")
    assert code == 2 and "give INPUT" in err and "no --rules given" in err
