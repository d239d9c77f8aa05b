"""The rollup in a run with `sources:`: movement tables keyed by each system's own ids (CRM 17,
ERP 17) land on the records the sources section made (`crm:17`, `erp:17`); an id only the other
system has is an unknown record id, a system that is no configured source has its own reason,
and every movement row is counted."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from crmclean.core.value import RollupSpec, match_movements
from run_fixtures import crmclean

RULES = """\
version: 1
columns:
  first_name: {}
  last_name: {}
sources:
  crm: {location: crm.csv, id_column: customer_id, priority: 1}
  erp:
    location: erp.csv
    id_column: kdnr
    columns: {first_name: vorname, last_name: nachname}
rollup:
  tables:
    orders: {file: orders.csv, record_id: customer, source_system: system, date: day, amount: net}
    payments: {file: payments.csv, record_id: kdnr, source: PAYMENTS_SOURCE, amount: paid}
  measures:
    revenue: {type: sum, table: orders}
    order_count: {type: count, table: orders}
    paid: {type: sum, table: payments}
"""
# (own id, system as the order table spells it, amount, where it lands or why not)
ORDERS = [
    ("17", "crm", "100", "crm:17"),
    (" 17 ", " CRM ", "10", "crm:17"),  # trimmed, case-blind
    ("17", "erp", "1000", "erp:17"),  # the same raw id in the other system
    ("19", "ERP", "5", "erp:19"),
    ("18", "crm", "20", "crm:18"),
    ("19", "crm", "7", "unknown record id"),  # 19 is only an ERP id
    ("20", "erp", "3", "unknown record id"),  # 20 is only a CRM id
    ("18", "shop", "50", "unknown source system"),  # no such source
    ("18", None, "1", "unknown source system"),
    (None, "crm", "2", "no record id"),
    ("17", "crm", "many", "bad amount"),
]
PAYMENTS = [("17", "900", "erp:17"), ("19", "4", "erp:19"), ("18", "60", "unknown record id")]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    pl.DataFrame(
        {"customer_id": ["17", "18", "20"], "first_name": ["Anna", "Bernd", "Clara"]}
    ).with_columns(last_name=pl.lit("Krämer")).write_csv(tmp_path / "crm.csv")
    pl.DataFrame(
        {"kdnr": ["17", "19"], "vorname": ["Dieter", "Eva"], "nachname": ["Roth", "Lang"]}
    ).write_csv(tmp_path / "erp.csv")
    pl.DataFrame(
        [row[:3] for row in ORDERS], schema=["customer", "system", "net"], orient="row"
    ).with_columns(day=pl.lit("2026-11-02")).write_csv(tmp_path / "orders.csv")
    pl.DataFrame([row[:2] for row in PAYMENTS], schema=["kdnr", "paid"], orient="row").write_csv(
        tmp_path / "payments.csv"
    )
    (tmp_path / "rules.yaml").write_text(RULES.replace("PAYMENTS_SOURCE", "Erp"), "utf-8")
    return tmp_path


def test_orders_keyed_per_source_land_on_the_records_of_their_system(folder: Path) -> None:
    out = folder / "out"
    code, err = crmclean("run", "--rules", folder / "rules.yaml", "--out", out, "-q")
    assert code == 0, err
    crosswalk = pl.read_parquet(out / "crosswalk.parquet").select("record_id", "golden_id")
    golden = crosswalk.join(pl.read_parquet(out / "golden.parquet"), on="golden_id")
    got = {
        rid: (revenue, count, paid)
        for rid, revenue, count, paid in golden.select(
            "record_id", "revenue", "order_count", "paid"
        ).iter_rows()
    }
    assert got == {
        "crm:17": (110.0, 2, 0.0),
        "erp:17": (1000.0, 1, 900.0),
        "erp:19": (5.0, 1, 4.0),
        "crm:18": (20.0, 1, 0.0),
        "crm:20": (0.0, 0, 0.0),
    }
    unmatched = pl.read_parquet(out / "unmatched_movements.parquet").sort("table", "row")
    expected = [
        (table, row, rid, why)
        for table, rows in (("orders", ORDERS), ("payments", PAYMENTS))
        for row, (rid, *_, why) in enumerate(rows, start=1)
        if ":" not in why
    ]
    got_rows = unmatched.select("table", "row", "record_id", "reason").rows()
    assert got_rows == [(t, r, i.strip() if i else i, w) for t, r, i, w in expected]
    # the ids are told as the movement table gives them, with its system
    unknown_source = unmatched.filter(pl.col("reason") == "unknown source system")
    assert unknown_source["source_system"].to_list() == ["shop", None]
    moves = json.loads((out / "manifest.json").read_text())["movements"]
    assert moves["rows_add_up"] and moves["rows"] == len(ORDERS) + len(PAYMENTS)
    orders = moves["tables"]["orders"]
    assert orders["matched"] == 5 and orders["unknown source system"] == 2
    assert orders["unknown record id"] == 2 and orders["unmatched"] == 6
    assert moves["tables"]["payments"]["matched"] == 2
    assert sum(r for r, _, _ in got.values()) == sum(
        float(n) for _, _, n, where in ORDERS if ":" in where
    )


def test_a_table_of_one_system_that_is_no_source_is_a_rule_file_error(folder: Path) -> None:
    (folder / "rules.yaml").write_text(RULES.replace("PAYMENTS_SOURCE", "ERPP"), "utf-8")
    code, err = crmclean("run", "--rules", folder / "rules.yaml", "--out", folder / "out", "-q")
    assert code == 2
    assert "rollup.tables.payments.source: no source 'ERPP' in the sources: section" in err[0]
    assert "erp" in err[0]
    assert not (folder / "out").exists()


def test_match_movements_with_sources_prefixes_own_ids_and_knows_quarantined_ones() -> None:
    kept = pl.DataFrame({"record_id": ["crm:1", "erp:1"], "system": ["crm", "erp"]})
    held = pl.DataFrame({"record_id": ["erp:2"], "system": ["erp"]})
    spec = RollupSpec.model_validate(
        {
            "tables": {"orders": {"file": "o.csv", "record_id": "id", "source_system": "sys"}},
            "measures": {"n": "count"},
        }
    )
    orders = pl.DataFrame(
        {"id": ["1", "1", "2", "1", "crm:1"], "sys": ["erp", "Crm", "erp", "web", "crm"]}
    )
    matched = match_movements({"orders": orders}, spec, kept, held, "system", ["crm", "erp"])
    placed = matched.record_ids.gather(matched.tables["orders"].sort("__row")["__rix"])
    assert placed.to_list() == ["erp:1", "crm:1"]
    reasons = matched.unmatched.select("row", "record_id", "reason").rows()
    assert reasons == [
        (3, "2", "quarantined record"),
        (4, "1", "unknown source system"),
        (5, "crm:1", "unknown record id"),  # a run id is not an own id: crm:crm:1
    ]
    # without sources (ids unique in one file) the same table compares ids as given
    plain = match_movements({"orders": orders}, spec, kept, held, "system")
    assert plain.totals()["orders"]["unknown source system"] == 0
