"""Read a table from a database through Arrow: PostgreSQL and SQLite through their ADBC drivers,
DuckDB through its own module. No row passes through Python: the driver hands an Arrow stream
to polars, then the rows are checked and typed like a file's (crmclean.io.readers.frame_table).

Every failure is one InputError (exit 3) naming the URL without password or query text: the
server that cannot be reached (host and port), or the database's own message (no such table,
permission denied, a syntax error), first line only: the lines after it can quote the query.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl

from crmclean.core.masking import redact_engine_message
from crmclean.errors import InputError
from crmclean.io.database_url import DatabaseUrl
from crmclean.io.readers import ReadInfo, ReadResult, frame_table
from crmclean.io.regular_file import require_regular_file

DRIVERS = {
    "postgresql": "adbc_driver_postgresql.dbapi",
    "sqlite": "adbc_driver_sqlite.dbapi",
    "duckdb": "duckdb",
}
# the driver's status and the steps it failed in, before the database's own words
_PREFIX = re.compile(
    r"^(?:[A-Z_]+: )?(?:\[[A-Za-z]+\] )?(?:Failed to [^:]+: )*(?:.*?(?:ERROR|FATAL):\s+)?"
)


def read_database(url: DatabaseUrl, *, id_column: str | None = None) -> ReadResult:
    """The rows the URL names, every column String, `record_id` first."""
    if url.file is not None:
        require_regular_file(url.file)  # a missing or odd file: exit 3 naming it
    frame = _fetch(url)
    if frame.height == 0:
        raise InputError(f"{url}: has no data rows", "check the table or the query's WHERE")
    read = frame_table(frame, id_column=id_column, name=url.shown)
    info = ReadInfo(
        url.shown,
        url.kind,
        None,
        None,
        read.info.rows,
        read.info.columns,
        0,
        "",
        table=url.table,
        query_sha256=url.query_sha256,
    )
    return ReadResult(read.frame, info, read.locate)


def _fetch(url: DatabaseUrl) -> pl.DataFrame:
    driver = open_driver(url.kind, url.shown)
    try:
        connection = _connect(driver, url)
    except Exception as exc:
        if url.kind != "postgresql":
            reason = reason_of(exc)
            raise InputError(
                f"{url}: cannot open the database: {reason}", "check the file"
            ) from None
        raise connect_error(url.shown, url.server, exc) from None
    try:
        return _rows(connection, url)
    except Exception as exc:
        raise InputError(
            f"{url}: the database answered: {reason_of(exc)}",
            "check the table name, the query and this user's rights on them",
        ) from None
    finally:
        _close(connection)


def _close(connection: Any) -> None:
    """Close without committing: whatever the query did is rolled back."""
    # nothing to roll back (DuckDB read-only), or the server is gone: close all the same
    with contextlib.suppress(Exception):
        connection.rollback()
    connection.close()


def open_driver(kind: str, shown: str) -> Any:
    """The driver module of a database kind (exit 3 naming the extra when it is missing)."""
    try:
        return importlib.import_module(DRIVERS[kind])
    except ImportError:
        raise InputError(
            f"{shown}: {kind} needs its driver, which is not installed",
            "pip install 'crmclean[databases]'",
        ) from None


# A query may come from a rule file someone else wrote: reading a DuckDB file must not reach any
# other file (COPY ... TO, read_csv('/etc/passwd'), ATTACH, INSTALL), nor switch that back on.
_DUCKDB_LOCKED = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def _connect(driver: Any, url: DatabaseUrl) -> Any:
    if url.kind == "duckdb":
        return driver.connect(url.connect, read_only=True, config=dict(_DUCKDB_LOCKED))
    if url.kind == "sqlite":
        # read-only, so a mistaken URL can never create or change a database file
        return driver.connect(f"file:{quote(str(Path(url.connect).resolve()))}?mode=ro")
    # one read-only transaction that is never committed (rolled back on close): a query can
    # neither change the source system (nextval, a deleting function: refused) nor leave
    # anything behind that a read-only transaction still allows (lo_from_bytea: rolled back)
    connection = driver.connect(url.connect, autocommit=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
    except Exception:
        connection.close()
        raise
    return connection


def _rows(connection: Any, url: DatabaseUrl) -> pl.DataFrame:
    if url.kind == "duckdb":
        return pl.DataFrame(connection.sql(url.sql))
    cursor = connection.cursor()
    try:
        cursor.execute(url.sql)
        return pl.DataFrame(cursor.fetch_arrow())
    finally:
        cursor.close()


def connect_error(shown: str, server: str | None, exc: Exception) -> InputError:
    """A server that cannot be reached or refuses the login, named by host and port (or the
    service, or the local socket, as crmclean.io.database_url names where libpq connects)."""
    return InputError(
        f"{shown}: cannot connect to {server}: {reason_of(exc)}",
        "check host, port, user and that the server accepts connections from here; the "
        "password comes from PGPASSWORD, ~/.pgpass or a service file",
    )


def reason_of(exc: BaseException) -> str:
    """The driver's first line without its status prefix; the lines after it quote the query."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    line = redact_engine_message(_PREFIX.sub("", line).strip())
    return line if len(line) <= 200 else line[:199] + "…"
