"""`crmclean run` with a rollup: section: measures and key_account on golden records, every
order accounted for in the manifest, stable reruns, and precise errors for the section."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from run_fixtures import crmclean, write_case

ROLLUP = """
rollup:
  tables:
    orders:
      file: orders.csv
      record_id: customer
      source_system: system
      date: ordered
      amount: net
  measures:
    revenue: sum
    orders: count
    last_order_at: last_date
  key_account: {measure: revenue, top_percent: 10}
  order_review_by: revenue
"""


def orders(data: Path) -> pl.DataFrame:
    """Three orders per customer record, their amounts by record, and four that cannot be used."""
    ids = pl.read_csv(data, infer_schema_length=0).select("customer_id", "source_system")
    placed = ids.join(pl.DataFrame({"k": [1, 2, 3]}), how="cross").select(
        pl.col("customer_id").alias("customer"),
        pl.col("source_system").str.to_uppercase().alias("system"),  # case differs: still found
        pl.format("2025-0{}-15", pl.col("k")).alias("ordered"),
        (pl.col("customer_id").str.slice(1).cast(pl.Int64) * pl.col("k"))
        .cast(pl.String)
        .alias("net"),
    )
    bad = pl.DataFrame(
        {
            "customer": ["C99999", None, "C00001", "C00001"],
            "system": ["erp", "erp", "erp", "erp"],
            "ordered": ["2025-01-01", "2025-01-01", "not a day", "2025-01-01"],
            "net": ["1", "1", "1", "lots"],
        }
    )
    return pl.concat([placed, bad])


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, Path, pl.DataFrame]:
    data, rules = write_case(tmp_path / "in")
    text = rules.read_text(encoding="utf-8").replace(
        "    first_name: [valid_only, longest]", "    first_name: [{highest_measure: revenue}]"
    )
    rules.write_text(text + ROLLUP, encoding="utf-8")
    table = orders(data)
    table.write_csv(tmp_path / "in" / "orders.csv")
    return data, rules, table


def test_golden_records_carry_value_and_every_order_is_counted(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, table = case
    code, _ = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    assert code in (0, 1)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    moves = manifest["movements"]
    assert moves["rows_add_up"] and moves["rows"] == table.height
    assert moves["tables"]["orders"]["unmatched"] == 4
    assert {
        k: moves["tables"]["orders"][k]
        for k in ("unknown record id", "no record id", "bad date", "bad amount")
    } == {
        "unknown record id": 1,
        "no record id": 1,
        "bad date": 1,
        "bad amount": 1,
    }
    golden = pl.read_parquet(tmp_path / "out" / "golden.parquet")
    assert {"revenue", "orders", "last_order_at", "key_account"} <= set(golden.columns)
    assert golden["orders"].sum() == moves["matched"]
    usable = table.filter(
        pl.col("net").str.contains(r"^\d+$") & pl.col("ordered").str.starts_with("2025-0")
    )
    assert (
        golden["revenue"].sum()
        == usable.filter(pl.col("customer") != "C99999")["net"].cast(pl.Float64).sum()
    )
    assert golden["key_account"].sum() == moves["key_accounts"] > 0
    unmatched = pl.read_parquet(tmp_path / "out" / "unmatched_movements.parquet")
    assert unmatched.height == 4 and "unmatched_movements.parquet" in manifest["outputs"]
    # survivorship by value: the first name of the member with the most revenue
    crosswalk = pl.read_parquet(tmp_path / "out" / "crosswalk.parquet")
    lineage = pl.read_parquet(tmp_path / "out" / "lineage.parquet")
    decided = lineage.filter(
        (pl.col("column") == "first_name") & (pl.col("strategy") == "highest_measure")
    )
    assert decided.height > 0
    for golden_id, winner in decided.select("golden_id", "record_id").iter_rows():
        members = crosswalk.filter(pl.col("golden_id") == golden_id)["record_id"].to_list()
        assert winner == max(members)  # revenue grows with the id number in this fixture
    review = pl.read_parquet(tmp_path / "out" / "review.parquet")
    if review.height > 1:
        assert review["key_account"].to_list() == sorted(
            review["key_account"].to_list(), reverse=True
        )


def test_reruns_give_the_same_values_and_previous_keeps_ids(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    crmclean("run", data, "--rules", rules, "--out", tmp_path / "a", "-q")
    code, err = crmclean(
        "run", data, "--rules", rules, "--out", tmp_path / "b", "--previous", tmp_path / "a", "-q"
    )
    assert code in (0, 1), err
    first = pl.read_parquet(tmp_path / "a" / "golden.parquet")
    second = pl.read_parquet(tmp_path / "b" / "golden.parquet")
    assert_frame_equal(first, second)
    changes = pl.read_parquet(tmp_path / "b" / "changes-since-previous.parquet")
    assert changes.filter(pl.col("change") != "kept").height == 0


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (
            ("file: orders.csv", "file: nowhere.csv"),
            "rollup.tables.orders.file: cannot use nowhere.csv: file not found",
        ),
        (
            ("amount: net", "amount: netto"),
            "rollup.tables.orders.amount: orders.csv has no column 'netto'",
        ),
        (("revenue: sum", "revenue: sums"), "rollup.measures.revenue"),
        (
            ("measure: revenue,", "measure: revenu,"),
            "rollup.key_account.measure: no measure 'revenu'",
        ),
        (
            ("{highest_measure: revenue}", "{highest_measure: revenu}"),
            "no measure 'revenu' in rollup.measures",
        ),
    ],
)
def test_rollup_mistakes_are_exit_2_at_their_yaml_path(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path, edit: tuple[str, str], where: str
) -> None:
    data, rules, _ = case
    rules.write_text(rules.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 2, err
    text = "\n".join(err)
    assert where in text and "rules.yaml:" in text
    assert "Traceback" not in text
    assert not (tmp_path / "out").exists()


def test_an_unreadable_movement_table_is_exit_3_naming_it(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    (tmp_path / "in" / "orders.csv").write_bytes(b"")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 3, err
    assert "rollup.tables.orders.file" in err[0] and "orders.csv" in err[0]


def test_report_has_a_customer_value_section(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    value = json.loads((tmp_path / "out" / "report.json").read_text())["value"]
    assert value["measure"] == "revenue" and value["golden_records"] == manifest["rows"]["golden"]
    assert sum(b["count"] for b in value["bands"]) == value["golden_records"]
    assert value["key_accounts"] == manifest["movements"]["key_accounts"]
    assert value["movements"] == manifest["movements"]["rows"]
    assert sum(c["count"] for c in value["unmatched"]) == manifest["movements"]["unmatched"]
    top = [k["value"] for k in value["top_key_accounts"]]
    assert top == sorted(top, reverse=True) and len(top) == value["key_accounts"]
    html = (tmp_path / "out" / "report.html").read_text()
    section = html.split('<section id="value">')[1].split("</section>")[0]
    assert "<svg" in section and "Key accounts" in section
    assert 'href="#value"' in html


def test_a_missing_movement_file_is_exit_2_with_the_way_out(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    data, rules, _ = case
    (tmp_path / "in" / "orders.csv").unlink()
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 2, err
    text = "\n".join(err)
    assert "rollup.tables.orders.file" in text and "file not found" in text
    assert "if_missing: skip" in text
    assert not (tmp_path / "out").exists()


def test_if_missing_skip_runs_with_empty_measures_and_says_so(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    """A copy of company.yaml used on data without orders: a warning, not exit 2."""
    data, rules, _ = case
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace("      amount: net\n", "      amount: net\n      if_missing: skip\n")
    )
    (tmp_path / "in" / "orders.csv").unlink()
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out", "-q")
    assert code in (0, 1), err
    assert any("rollup table 'orders': file not found, skipped" in line for line in err)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    moves = manifest["movements"]
    assert moves["skipped_tables"] == ["orders"] and moves["rows"] == 0 and moves["rows_add_up"]
    golden = pl.read_parquet(tmp_path / "out" / "golden.parquet")
    assert golden.get_column("orders").fill_null(0).sum() == 0


def test_company_rules_read_no_sample_file_and_the_demo_rules_roll_up_its_orders(
    tmp_path: Path,
) -> None:
    """rules/company.yaml is what users copy for their own data: it must not roll the sample's
    orders up onto their customers (whose ids may collide). rules/demo.yaml, which `make demo`
    runs, extends it with the sample's orders; a copy of it without them still runs."""
    from crmclean.config import load_rules

    root = Path(__file__).resolve().parents[1]
    company = (root / "rules" / "company.yaml").read_text(encoding="utf-8")
    assert load_rules(root / "rules" / "company.yaml").rules.rollup is None
    assert "sample_data" not in company
    data = root / "sample_data" / "customers.csv"
    copy = tmp_path / "company.yaml"
    copy.write_text(company, encoding="utf-8")
    code, err = crmclean("run", data, "--rules", copy, "--out", tmp_path / "mine", "-q")
    assert code == 1, err  # the sample's defects fail error rules
    manifest = json.loads((tmp_path / "mine" / "manifest.json").read_text(encoding="utf-8"))
    assert not manifest.get("movements")
    assert not (tmp_path / "mine" / "unmatched_movements.parquet").exists()

    demo = load_rules(root / "rules" / "demo.yaml").rules.rollup
    assert demo is not None and "orders" in demo.tables
    (tmp_path / "demo.yaml").write_text(
        (root / "rules" / "demo.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, err = crmclean("run", data, "--rules", tmp_path / "demo.yaml", "-o", tmp_path / "d", "-q")
    assert code == 1, err
    assert any("rollup table 'orders'" in line for line in err)  # no orders beside the copy


def test_a_movement_table_may_be_a_database_table(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    """The same orders from a SQLite table give the same golden records as from the CSV."""
    import sqlite3

    data, rules, table = case
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "csv", "-q")
    assert code in (0, 1), err
    db = tmp_path / "erp.db"
    with sqlite3.connect(db) as con:
        con.execute(f"CREATE TABLE orders ({', '.join(c + ' TEXT' for c in table.columns)})")
        marks = ",".join("?" * table.width)
        con.executemany(f"INSERT INTO orders VALUES ({marks})", table.rows())
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("file: orders.csv", f'file: "sqlite:///{db}?table=orders"'))
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "db", "-q")
    assert code in (0, 1), err
    from_csv = json.loads((tmp_path / "csv" / "manifest.json").read_text())["movements"]
    from_db = json.loads((tmp_path / "db" / "manifest.json").read_text())["movements"]
    assert from_db["rows"] == table.height and from_db["rows_add_up"]
    assert {k: from_db[k] for k in ("matched", "unmatched", "key_accounts")} == {
        k: from_csv[k] for k in ("matched", "unmatched", "key_accounts")
    }
    assert_frame_equal(
        pl.read_parquet(tmp_path / "db" / "golden.parquet"),
        pl.read_parquet(tmp_path / "csv" / "golden.parquet"),
    )


def test_review_lists_key_accounts_and_value_first_and_orders_by_a_golden_measure(
    case: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    """The README's promise: with a rollup the review queue lists duplicate key accounts first,
    on the screen and in the sheet, without asking; --value-column may name a measure of the
    golden records (the queue itself does not hold it)."""
    import csv
    import io

    from typer.testing import CliRunner

    from crmclean.cli.main import app

    data, rules, _ = case
    out = tmp_path / "out"
    assert crmclean("run", data, "--rules", rules, "--out", out, "-q")[0] in (0, 1)
    runner = CliRunner()

    def sheet(*extra: str) -> list[dict[str, str]]:
        done = runner.invoke(app, ["review", str(out), "-f", "csv", *extra])
        assert done.exit_code == 0, done.stderr
        return list(csv.DictReader(io.StringIO(done.stdout)))

    rows = sheet()
    assert len(rows) >= 2
    ranked = [(r["key_account"] == "true", float(r["customer_value"])) for r in rows]
    assert ranked == sorted(ranked, reverse=True)  # key accounts, then value: the default
    golden = pl.read_parquet(out / "golden.parquet").select("golden_id", "orders")
    queue = pl.read_parquet(out / "review.parquet").select(
        "record_id_l", "record_id_r", "golden_id_l", "golden_id_r"
    )
    by_orders = sheet("--order", "value", "--value-column", "orders")
    counts = dict(golden.iter_rows())
    sides = {(r[0], r[1]): (r[2], r[3]) for r in queue.iter_rows()}
    value = [
        counts[sides[(r["record_id_l"], r["record_id_r"])][0]]
        + (
            0
            if sides[(r["record_id_l"], r["record_id_r"])][0]
            == sides[(r["record_id_l"], r["record_id_r"])][1]
            else counts[sides[(r["record_id_l"], r["record_id_r"])][1]]
        )
        for r in by_orders
    ]
    assert value == sorted(value, reverse=True)
    wrong = runner.invoke(app, ["review", str(out), "--order", "value", "--value-column", "x"])
    assert wrong.exit_code == 2
    assert "revenue" in wrong.stderr and "orders" in wrong.stderr  # golden measures named
