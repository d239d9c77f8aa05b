"""Small SQL helpers for DuckDB: its quoting (the dialect's, engines/sql/dialect.py) and running
a statement or query on a connection."""

from __future__ import annotations

from typing import Any

import polars as pl

from crmclean.engines.sql.dialect import DUCKDB

ident, text, number, strip, key = DUCKDB.ident, DUCKDB.text, DUCKDB.number, DUCKDB.strip, DUCKDB.key


def run(con: Any, statement: str) -> None:
    """Execute a statement that returns no rows to read, and finish it (DuckDB refuses the
    next statement on a connection while a result is open)."""
    con.execute(statement).fetchall()


def first(con: Any, query: str) -> tuple[Any, ...]:
    """The first row of a query (read to the end: see `run`); () when there is none."""
    rows = con.execute(query).fetchall()
    return tuple(rows[0]) if rows else ()


def frame(con: Any, query: str) -> pl.DataFrame:
    """A query's rows as a polars frame."""
    result: pl.DataFrame = con.sql(query).pl()
    return result
