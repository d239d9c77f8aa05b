"""Movement dates in `crmclean run`: a date after the run's day is set aside (it would become
as_of and empty every window), as_of is the latest usable movement on a golden record or not,
and ISO date-times are dates."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from run_fixtures import crmclean, write_case
from test_value_cli import ROLLUP, orders


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, Path, pl.DataFrame]:
    """test_value_cli's customers with three orders each and four that cannot be used."""
    data, rules = write_case(tmp_path / "in")
    rules.write_text(rules.read_text(encoding="utf-8") + ROLLUP, encoding="utf-8")
    table = orders(data)
    table.write_csv(tmp_path / "in" / "orders.csv")
    return data, rules, table


def _run(data: Path, rules: Path, out: Path) -> dict[str, object]:
    code, output = crmclean("run", data, "--rules", rules, "--out", out, "-q")
    assert code in (0, 1), output
    moves: dict[str, object] = json.loads((out / "manifest.json").read_text())["movements"]
    return moves


def _with(table: pl.DataFrame, rows: dict[str, list[str | None]], path: Path) -> None:
    pl.concat([table, pl.DataFrame(rows)]).write_csv(path)


def test_an_order_dated_far_in_the_future_is_set_aside_not_as_of(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, table = case
    before = _run(data, rules, tmp_path / "before")
    first = table.get_column("customer")[0]
    _with(
        table,
        {"customer": [first], "system": ["crm"], "ordered": ["9999-12-31"], "net": ["1"]},
        rules.parent / "orders.csv",
    )
    moves = _run(data, rules, tmp_path / "after")
    assert moves["as_of"] == before["as_of"] == "2025-03-15"
    assert moves["key_accounts"] == before["key_accounts"]
    orders_ = moves["tables"]["orders"]  # type: ignore[index]
    assert orders_["date in the future"] == 1 and moves["rows_add_up"]
    unmatched = pl.read_parquet(tmp_path / "after" / "unmatched_movements.parquet")
    late = unmatched.filter(pl.col("reason") == "date in the future")
    assert late.select("record_id", "date").rows() == [(first, "9999-12-31")]


def test_as_of_is_the_latest_usable_movement_even_on_no_golden_record(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, table = case
    _with(
        table,
        {"customer": ["C88888"], "system": ["erp"], "ordered": ["2025-05-01"], "net": ["1"]},
        rules.parent / "orders.csv",
    )
    moves = _run(data, rules, tmp_path / "out")
    assert moves["as_of"] == "2025-05-01"
    assert moves["tables"]["orders"]["unknown record id"] == 2  # type: ignore[index]


@pytest.mark.parametrize("written", ["2025-03-20T10:00:00", "2025-03-20 10:00:00+02:00"])
def test_iso_date_times_are_dates_by_default(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path, written: str
) -> None:
    data, rules, table = case
    first = table.get_column("customer")[0]
    _with(
        table,
        {"customer": [first], "system": ["crm"], "ordered": [written], "net": ["1"]},
        rules.parent / "orders.csv",
    )
    moves = _run(data, rules, tmp_path / "out")
    assert moves["as_of"] == "2025-03-20"
    assert moves["tables"]["orders"]["bad date"] == 1  # type: ignore[index]  # 'not a day' only
