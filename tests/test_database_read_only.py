"""A database URL only reads: a query (perhaps from a rule file someone else wrote) can neither
change the database it reads, nor read or write any other file, nor run a second statement.
Against real SQLite and DuckDB files and a real PostgreSQL server (tests/pg_server.py)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from pg_server import SUPERUSER_PASSWORD, Cluster, running_cluster

ROOT = Path(__file__).resolve().parents[1]
RULES = str(ROOT / "rules" / "company.yaml")
PASSWORD = "reader-pw-31c9"


def _profile(location: str, password: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, ["profile", location], env={"PGPASSWORD": password})
    return result.exit_code, result.stderr


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / "crm.db") as connection:
        connection.execute("CREATE TABLE customers (customer_id TEXT, last_name TEXT)")
        connection.execute("INSERT INTO customers VALUES ('1', 'Smith'), ('2', 'Jones')")
    import duckdb

    with duckdb.connect(str(tmp_path / "crm.duckdb")) as connection:
        connection.execute("CREATE TABLE customers (customer_id TEXT, last_name TEXT)")
        connection.execute("INSERT INTO customers VALUES ('1', 'Smith'), ('2', 'Jones')")
    return tmp_path


def _duckdb_rows(folder: Path) -> int:
    import duckdb

    with duckdb.connect(str(folder / "crm.duckdb"), read_only=True) as connection:
        row = connection.execute("SELECT count(*) FROM customers").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    "query",
    [
        "COPY (SELECT * FROM customers) TO '{out}'",
        "SELECT * FROM customers; COPY (SELECT 1) TO '{out}'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM customers WHERE (SELECT count(*) FROM glob('/etc/*')) > 0",
        "ATTACH '{out}' AS other",
        "DELETE FROM customers",
        "SET enable_external_access = true",
        "INSTALL httpfs",
    ],
)
def test_a_duckdb_query_reaches_no_other_file_and_changes_nothing(files: Path, query: str) -> None:
    out = files / "written.csv"
    text = query.format(out=out)
    code, err = _profile(f"duckdb:///{files / 'crm.duckdb'}?query={text}")
    assert code == 3, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert text not in err and "/etc" not in err  # the query is shown by its hash
    assert not out.exists()
    assert _duckdb_rows(files) == 2


@pytest.mark.parametrize(
    "query",
    [
        "ATTACH DATABASE '{out}' AS other",
        "SELECT * FROM customers; ATTACH DATABASE '{out}' AS other",
        "DELETE FROM customers",
        "WITH gone AS (DELETE FROM customers RETURNING *) SELECT * FROM gone",
        "VACUUM INTO '{out}'",
        "PRAGMA writable_schema = ON",
    ],
)
def test_a_sqlite_query_creates_no_file_and_changes_nothing(files: Path, query: str) -> None:
    out = files / "other.db"
    code, err = _profile(f"sqlite:///{files / 'crm.db'}?query={query.format(out=out)}")
    assert code == 3, err
    assert not out.exists()
    with sqlite3.connect(files / "crm.db") as connection:
        assert connection.execute("SELECT count(*) FROM customers").fetchone() == (2,)


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM customers WHERE last_name <> 'x';",
        "SELECT * FROM customers -- the steward's note",
        "SELECT * FROM customers -- ) AS q; COPY (SELECT 1) TO '{out}'",
    ],
)
def test_a_select_with_a_semicolon_or_a_comment_still_reads(
    files: Path, kind: str, query: str
) -> None:
    name = "crm.db" if kind == "sqlite" else "crm.duckdb"
    out = files / "written.csv"
    code, err = _profile(f"{kind}:///{files / name}?query={query.format(out=out)}")
    assert code == 0, err
    assert not out.exists()  # a comment stays a comment: it cannot close the subquery


@pytest.fixture(scope="module")
def pg() -> Iterator[Cluster]:
    """public.customers with two rows, a function that deletes them, and a role that may do
    both: only the read-only session stops a query from running it."""
    with running_cluster() as cluster:
        cluster.sql("CREATE TABLE customers (customer_id text, last_name text)")
        cluster.sql("INSERT INTO customers VALUES ('1', 'Smith'), ('2', 'Jones')")
        cluster.sql(
            "CREATE FUNCTION purge() RETURNS int LANGUAGE sql AS 'DELETE FROM customers; SELECT 0'"
        )
        cluster.sql("CREATE SEQUENCE tickets")
        cluster.sql(f"CREATE ROLE writer LOGIN PASSWORD '{PASSWORD}'")
        cluster.sql("GRANT SELECT, DELETE ON customers TO writer")
        cluster.sql("GRANT USAGE ON SEQUENCE tickets TO writer")
        yield cluster


def _pg_rows(cluster: Cluster, count: str = "SELECT count(*) FROM customers") -> int:
    os.environ["PGPASSWORD"] = SUPERUSER_PASSWORD
    try:
        import adbc_driver_postgresql.dbapi as driver

        with driver.connect(cluster.url()) as connection, connection.cursor() as cursor:
            cursor.execute(count)
            row = cursor.fetchone()
    finally:
        del os.environ["PGPASSWORD"]
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    "query",
    [
        "SELECT *, purge() FROM customers",
        "DELETE FROM customers RETURNING *",
        "WITH gone AS (DELETE FROM customers RETURNING *) SELECT * FROM gone",
        "SELECT * FROM customers) AS q; DELETE FROM customers; SELECT * FROM (SELECT 1",
        "SELECT set_config('transaction_read_only', 'off', false), purge()",
        "SELECT c.*, nextval('tickets') FROM customers c",  # a rollback would not undo it
    ],
)
def test_a_postgresql_query_changes_nothing(pg: Cluster, query: str) -> None:
    code, err = _profile(pg.url("writer") + "?query=" + query, PASSWORD)
    assert code == 3, err
    assert PASSWORD not in err and "Traceback" not in err
    assert _pg_rows(pg) == 2


def test_a_postgresql_query_leaves_nothing_behind(pg: Cluster) -> None:
    """lo_from_bytea runs even in a read-only transaction: it is never committed."""
    query = "SELECT c.*, lo_from_bytea(0, 'x') AS blob FROM customers c"
    code, err = _profile(pg.url("writer") + "?query=" + query, PASSWORD)
    assert code == 0, err
    assert _pg_rows(pg, "SELECT count(*) FROM pg_largeobject_metadata") == 0


def test_a_postgresql_select_still_reads(pg: Cluster) -> None:
    code, err = _profile(pg.url("writer") + "?query=SELECT * FROM customers;", PASSWORD)
    assert code == 0, err


def test_a_column_crmclean_cannot_read_as_text_is_named(pg: Cluster) -> None:
    """pg_advisory_lock returns void, which arrives as an Arrow extension type."""
    query = "SELECT c.*, pg_advisory_lock(1) AS held FROM customers c"
    code, err = _profile(pg.url("writer") + "?query=" + query, PASSWORD)
    assert code == 3, err
    assert "'held'" in err and "cannot read as text" in err
    assert "unexpected" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2
