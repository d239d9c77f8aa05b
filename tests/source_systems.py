"""Two source systems made from the sample for the `sources:` tests: the CRM's rows as a CSV,
the other rows as an ERP's SQLite table with German column names, and a rule file naming both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
COMPANY = ROOT / "rules" / "company.yaml"
ERP_NAMES = {"customer_id": "kdnr", "first_name": "vorname", "last_name": "nachname"}


def write_systems(folder: Path, rows: int = 1600) -> Path:
    """crm.csv and erp.db (table kunden) in `folder`, from the sample's first `rows` rows."""
    sample = pl.read_csv(ROOT / "sample_data" / "customers.csv", infer_schema_length=0)
    sample = sample.head(rows)
    sample.filter(pl.col("source_system") == "crm").drop("source_system").write_csv(
        folder / "crm.csv"
    )
    erp = sample.filter(pl.col("source_system") != "crm").drop("source_system")
    erp = erp.rename(ERP_NAMES).with_columns(pl.lit("intern").alias("buchungskreis"))
    with sqlite3.connect(folder / "erp.db") as db:
        db.execute(f"CREATE TABLE kunden ({', '.join(f'{c} TEXT' for c in erp.columns)})")
        db.executemany(f"INSERT INTO kunden VALUES ({', '.join('?' * erp.width)})", erp.iter_rows())
    return folder


def rule_file(folder: Path, mode: str = "link_only", erp_columns: str | None = None) -> Path:
    """A rule file extending company.yaml with the two systems as its sources."""
    columns = erp_columns or "{customer_id: kdnr, first_name: vorname, last_name: nachname}"
    path = folder / f"sources-{mode}.yaml"
    path.write_text(
        f"extends: {COMPANY}\n"
        "sources:\n"
        "  crm:\n"
        "    location: crm.csv\n"
        "    id_column: customer_id\n"
        "    priority: 2\n"
        "  erp:\n"
        f"    location: sqlite:///{folder / 'erp.db'}?table=kunden\n"
        "    id_column: kdnr\n"
        f"    columns: {columns}\n"
        "    priority: 1\n"
        f"matching:\n  mode: {mode}\n",
        encoding="utf-8",
    )
    return path
