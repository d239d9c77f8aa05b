"""--as-of: validate and run read the given clock instead of now, so the same input and clock
give byte-identical outputs (not_in_future's message names the clock to the minute)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "customers.csv"
COMPANY = REPO / "rules" / "company.yaml"

RULES = """
dataset: {id_column: customer_id}
columns:
  customer_id: {required: true}
  date_of_birth:
    checks: [{type: not_in_future, formats: ["%Y-%m-%d"]}]
"""


def test_validate_reads_the_clock_given(tmp_path: Path) -> None:
    data = tmp_path / "c.csv"
    data.write_text("customer_id,date_of_birth\nC1,1999-05-01\nC2,2001-05-01\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    out = tmp_path / "out"
    args = ["validate", str(data), "-r", str(rules), "--out", str(out), "-q"]
    result = runner.invoke(app, [*args, "--as-of", "2000-01-01T06:30"])
    assert result.exit_code == 1, result.output
    violations = pl.read_parquet(out / "violations.parquet")
    assert violations["record_id"].to_list() == ["C2"]  # after the clock, though long past now
    assert violations["message"].to_list() == ["in the future (after 2000-01-01 06:30)"]
    # an offset is converted: 07:30 at +01:00 is the same clock
    again = runner.invoke(app, [*args, "--as-of", "2000-01-01T07:30+01:00"])
    assert again.exit_code == 1, again.output
    assert pl.read_parquet(out / "violations.parquet").equals(violations)


def test_a_clock_that_is_no_date_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", str(SAMPLE), "-r", str(COMPANY), "--as-of", "yesterday"]
    )
    assert result.exit_code == 2
    assert "--as-of 'yesterday' is not an ISO date-time" in result.output


@pytest.mark.parametrize(
    ("clock", "says"),
    [
        ("0001-01-01T00:00+01:00", "is not an ISO date-time"),  # before year 1 in UTC
        ("9999-12-31T23:59-05:00", "is not an ISO date-time"),  # after 9999 in UTC
        ("0001-01-01", "is out of range"),
        ("9999-12-31", "is out of range"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_clock_far_outside_the_years_data_lives_in_is_one_usage_error(
    tmp_path: Path, command: str, clock: str, says: str
) -> None:
    """Those crashed `run` with an OverflowError in the rollup's date arithmetic."""
    args = [command, str(SAMPLE), "-r", str(REPO / "rules" / "demo.yaml"), "--as-of", clock]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "out").exists()


def test_run_twice_on_one_clock_writes_the_same_bytes(tmp_path: Path) -> None:
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        args = ["run", str(SAMPLE), "-r", str(COMPANY), "--out", str(out), "-q", "--no-report"]
        result = runner.invoke(app, [*args, "--as-of", "2026-12-07T06:00:00"])
        assert result.exit_code in (0, 1), result.output
    tables = sorted(p.name for p in outs[0].glob("*.parquet"))
    assert "violations.parquet" in tables and "golden.parquet" in tables
    for name in [*tables, "golden.csv"]:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    messages = pl.read_parquet(outs[0] / "violations.parquet")["message"]
    assert messages.str.contains("after 2026-12-07 06:00").any()
