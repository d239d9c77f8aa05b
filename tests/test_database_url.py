"""Database URLs as crmclean reads them: what the driver gets, what is shown, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmclean.errors import ExitCode, UsageError
from crmclean.io.database_url import DatabaseUrl, parse_database_url
from crmclean.io.locations import location_files, parse_location


def test_a_postgresql_table() -> None:
    url = parse_database_url("postgresql://steward@db:5433/crm?table=public.customers")
    assert url.kind == "postgresql" and url.server == "db:5433"
    assert url.connect == "postgresql://steward@db:5433/crm?connect_timeout=10"
    assert url.shown == "postgresql://steward@db:5433/crm?table=public.customers"
    assert url.sql == 'SELECT * FROM "public"."customers"'
    assert url.query_sha256 is None and url.file is None


def test_a_query_keeps_its_ampersands_and_hashes_and_is_shown_by_hash() -> None:
    text = "postgres://ci@db/crm?sslmode=require&query=SELECT * FROM c WHERE a > 1 & b <> '#x'"
    url = parse_database_url(text)
    assert url.query == "SELECT * FROM c WHERE a > 1 & b <> '#x'"
    assert url.connect == "postgresql://ci@db/crm?sslmode=require&connect_timeout=10"
    assert url.shown.startswith("postgresql://ci@db/crm?query=sha256:")
    assert "SELECT" not in url.shown and url.server == "db:5432"
    assert url.query_sha256 is not None and url.query_sha256.startswith(url.shown[-12:])


def test_a_percent_encoded_query_is_decoded() -> None:
    url = parse_database_url("postgresql://db/crm?query=SELECT%20*%20FROM%20t%20WHERE%20x%3D1")
    assert url.query == "SELECT * FROM t WHERE x=1"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("sqlite:///crm.db?table=customers", "crm.db"),
        ("sqlite:////srv/data/crm.db?table=customers", "/srv/data/crm.db"),
        ("sqlite:crm.db?table=customers", "crm.db"),
        ("duckdb:////srv/crm%20v2.duckdb?query=SELECT 1", "/srv/crm v2.duckdb"),
    ],
)
def test_database_files_as_sqlalchemy_writes_them(text: str, path: str) -> None:
    url = parse_database_url(text)
    assert url.file == Path(path)
    assert location_files(url) == [Path(path)]
    assert parse_database_url(url.shown).file == Path(path)  # what is shown reads the same file


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("postgresql://u:hunter2@db/crm?table=t", "has a password"),
        ("postgresql://u@db/crm?password=hunter2&table=t", "password= parameter"),
        ("postgresql://u@db/crm", "names no table"),
        ("postgresql://u@db/crm?table=t&query=SELECT 1", "both table= and query="),
        ("postgresql://u@db/crm?table=t;DROP TABLE t", "is not a table name"),
        ("postgresql://u@db/crm?table=a.b.c.d", "has 4 parts; postgresql takes schema.table"),
        ("postgresql://u@db/crm?table=crm.public.t", "has 3 parts"),
        ("sqlite:///x.db?table=main.a.t", "sqlite takes schema.table"),
        ("duckdb:///x.duckdb?table=a.b.c.d", "duckdb takes database.schema.table"),
        ("postgresql://u@db:port/crm?table=t", "port is not a number"),
        ("postgresql://u@db/crm?query=  ", "query= is empty"),
        ("mysql://u:hunter2@db/crm?table=t", "crmclean reads files and postgresql://"),
        ("sqlite://?table=t", "names no database file"),
    ],
)
def test_malformed_urls_are_usage_errors_without_the_password(text: str, said: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_database_url(text)
    assert said in str(error.value)
    assert error.value.exit_code == ExitCode.USAGE
    assert "hunter2" not in str(error.value)


def test_paths_stay_paths() -> None:
    assert parse_location("sample_data/customers.csv") == Path("sample_data/customers.csv")
    assert parse_location("C:/export/kunden.csv") == Path("C:/export/kunden.csv")
    assert parse_location("kunden:2024.csv") == Path("kunden:2024.csv")
    assert isinstance(parse_location("postgresql://db/crm?table=t"), DatabaseUrl)


def test_a_url_without_a_host_keeps_its_slashes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGHOST", "PGPORT", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    url = parse_database_url("postgresql:///?service=crmsvc&table=customers")
    assert url.connect == "postgresql:///?service=crmsvc&connect_timeout=10"
    assert url.shown == "postgresql:///?table=customers"
    assert url.server == "the server of the service 'crmsvc' (pg_service.conf)"
    local = parse_database_url("postgresql:///crm?table=customers")
    assert local.connect == "postgresql:///crm?connect_timeout=10"
    assert local.server is not None and local.server.startswith(
        "the local server's socket, port 5432"
    )
    monkeypatch.setenv("PGHOST", "db.internal")
    monkeypatch.setenv("PGPORT", "6432")
    assert parse_database_url("postgresql:///crm?table=t").server == "db.internal:6432"
    assert parse_database_url("postgresql://other/crm?table=t").server == "other:6432"


def test_duckdb_takes_database_schema_table() -> None:
    assert parse_database_url("duckdb:///x.duckdb?table=x.main.t").table == "x.main.t"


def test_a_table_of_too_many_parts_is_exit_2_before_any_connection() -> None:
    from typer.testing import CliRunner

    from crmclean.cli.main import app

    rules = str(Path(__file__).resolve().parents[1] / "rules" / "company.yaml")
    url = "postgresql://u@127.0.0.1:1/crm?table=a.b.c.d"
    result = CliRunner().invoke(app, ["validate", url, "-r", rules])
    assert result.exit_code == 2, result.stderr
    assert "table='a.b.c.d' has 4 parts; postgresql takes schema.table at most" in result.stderr
