"""Small SQL text helpers: identifiers and literals are quoted here and nowhere else, so a column
name or value from a rule file can never become SQL of its own."""

from __future__ import annotations

from typing import Any

import polars as pl

# polars' str.strip_chars() strips Unicode White_Space; DuckDB's trim() only spaces, and
# trim() with a character list is slow: a regular expression (RE2: \s is [\t\n\f\r ])
_EDGE_SPACE = r"^[\s\p{Z}\x0b\x85]+|[\s\p{Z}\x0b\x85]+$"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def number(value: float) -> str:
    """A float literal that reads back as exactly `value`."""
    return f"CAST({float(value)!r} AS DOUBLE)"


def strip(expression: str) -> str:
    return f"regexp_replace({expression}, {text(_EDGE_SPACE)}, '', 'g')"


def key(column: str, table: str | None = None) -> str:
    """The blocking key of a column: text, trimmed, lower-cased (core/matching/blocking.py)."""
    source = f"{table}.{ident(column)}" if table else ident(column)
    return f"lower({strip(f'CAST({source} AS VARCHAR)')})"


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
