"""Rows and empty cells of clean.parquet, counted in one pass for every figure that needs them:
the column profile (completeness per column) and the by-source section (completeness per source
system). At a million records reading the cleaned columns is the cost; once is enough."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.io.run_outputs import RunOutputs

UNKNOWN_SOURCE = "(none)"  # records without a source system
SOURCE, ROWS = "__source", "__rows"  # never a column's name: the counts keep those


@dataclass(frozen=True)
class CleanCounts:
    """`table`: per source system (column `__source`, when `by_source`) or in one row: `__rows`
    and, per cleaned column (record_id left out), its null count under the column's name."""

    table: pl.DataFrame
    columns: list[str]
    by_source: bool

    def rows(self) -> int:
        return int(self.table.get_column(ROWS).sum())

    def nulls(self) -> dict[str, int]:
        """Null cells per column over all records."""
        return {c: int(self.table.get_column(c).sum()) for c in self.columns}


def source_column(outputs: RunOutputs) -> str | None:
    """dataset.source_column as the run's manifest names it, if clean.parquet holds it."""
    column = (outputs.summary("manifest") or {}).get("source_column")
    if not isinstance(column, str) or "clean" not in outputs.schemas:
        return None
    return column if column in outputs.schemas["clean"].names() else None


def count_clean(outputs: RunOutputs) -> CleanCounts | None:
    """The counts, grouped by source system when the run names one; None without clean.parquet."""
    clean = outputs.table("clean")
    if clean is None:
        return None
    columns = [c for c in outputs.schemas["clean"].names() if c != RECORD_ID]
    counted = [pl.len().alias(ROWS), *(pl.col(c).null_count().alias(c) for c in columns)]
    column = source_column(outputs)
    if column is None:
        return CleanCounts(clean.select(counted).collect(), columns, by_source=False)
    source = pl.col(column).cast(pl.String).fill_null(UNKNOWN_SOURCE).alias(SOURCE)
    return CleanCounts(clean.group_by(source).agg(counted).collect(), columns, by_source=True)
