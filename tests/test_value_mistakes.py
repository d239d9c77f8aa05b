"""Mistakes in a rollup: section that used to pass silently or with a poor message: a measure
over values that are not numbers, a table that matches (almost) nothing, a URL or a link as a
table file, a database file relative to the rule file, a bad as_of."""

from __future__ import annotations

import json
import sqlite3
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


def _edit(rules: Path, old: str, new: str) -> None:
    text = rules.read_text(encoding="utf-8")
    assert old in text
    rules.write_text(text.replace(old, new), encoding="utf-8")


def test_a_sum_over_text_counts_the_values_that_are_not_numbers(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, table = case
    qty = pl.Series("qty", ["2"] * table.height).scatter([0], "abc")
    table.with_columns(qty, pl.lit("z").alias("group")).write_csv(rules.parent / "orders.csv")
    _edit(
        rules,
        "    orders: count\n",
        "    orders: count\n    qty_total: {type: sum, column: qty}\n"
        "    groups: {type: distinct_count, column: group}\n"
        "    group_sum: {type: sum, column: group}\n",
    )
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    assert code in (0, 1), err
    moves = json.loads((tmp_path / "out" / "manifest.json").read_text())["movements"]
    matched = moves["matched"]
    assert moves["not_numbers"] == {"qty_total": 1, "group_sum": matched}
    golden = pl.read_parquet(tmp_path / "out" / "golden.parquet")
    assert golden["qty_total"].sum() == 2 * (matched - 1)
    assert golden["group_sum"].sum() == 0  # not the categories' internal codes
    assert golden["groups"].max() == 1
    said = [line for line in err if "are not numbers" in line]
    assert len(said) == 2 and "'qty_total'" in said[0] and "column 'qty'" in said[0]
    assert moves["warnings"] == [line.removeprefix("crmclean: warning: ") for line in said]


def test_a_table_that_matches_almost_nothing_is_warned_about(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    _edit(rules, "      amount: net\n", '      amount: net\n      date_format: "%d.%m.%Y"\n')
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    assert code in (0, 1), err
    moves = json.loads((tmp_path / "out" / "manifest.json").read_text())["movements"]
    assert moves["matched"] == 0
    line = next(x for x in err if "rollup table 'orders'" in x)
    assert f"only 0 of {moves['rows']} rows" in line and "bad date" in line
    assert moves["warnings"] == [line.removeprefix("crmclean: warning: ")]


def test_a_run_whose_tables_match_well_has_no_warning(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    assert code in (0, 1), err
    assert not [line for line in err if "warning" in line]
    moves = json.loads((tmp_path / "out" / "manifest.json").read_text())["movements"]
    assert moves["warnings"] == [] and moves["not_numbers"] == {}


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/orders.csv", "file:///etc/passwd"])
def test_a_url_table_file_is_exit_2_at_its_yaml_path(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path, url: str
) -> None:
    data, rules, _ = case
    _edit(rules, "file: orders.csv", f"file: {url}")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 2, err
    assert len(err) == 1 and "rules.yaml:" in err[0]
    assert "rollup.tables.orders.file" in err[0] and url in err[0]


def test_a_database_file_is_relative_to_the_rule_file(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, rules, table = case
    with sqlite3.connect(rules.parent / "erp.db") as con:
        con.execute(f"CREATE TABLE orders ({', '.join(c + ' TEXT' for c in table.columns)})")
        con.executemany(f"INSERT INTO orders VALUES ({','.join('?' * table.width)})", table.rows())
    _edit(rules, "file: orders.csv", 'file: "sqlite:///erp.db?table=orders"')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    assert code in (0, 1), err
    moves = json.loads((tmp_path / "out" / "manifest.json").read_text())["movements"]
    assert moves["rows"] == table.height and moves["rows_add_up"]
    assert not (elsewhere / "erp.db").exists()


def test_a_link_to_no_table_says_it_is_a_link(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    (tmp_path / "passwd").write_text("root:x:0:0\n")
    (rules.parent / "link.csv").symlink_to(tmp_path / "passwd")
    _edit(rules, "file: orders.csv", "file: link.csv")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 2, err
    assert "link.csv is a link to" in err[0] and "rollup.tables.orders.file" in err[0]


def test_a_bad_as_of_is_one_error_line(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    _edit(rules, "  order_review_by: revenue\n", "  order_review_by: revenue\n  as_of: not a day\n")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 2, err
    assert len(err) == 1 and "rollup.as_of" in err[0] and "'not a day'" in err[0]


def test_report_says_one_key_account_in_the_singular(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    _edit(rules, "top_percent: 10", "top_percent: 0.001")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    assert code in (0, 1), err
    moves = json.loads((tmp_path / "out" / "manifest.json").read_text())["movements"]
    assert moves["key_accounts"] == 1
    html = (tmp_path / "out" / "report.html").read_text()
    section = html.split('<section id="value">')[1].split("</section>")[0]
    assert "key account holds" in section and "key accounts hold" not in section
