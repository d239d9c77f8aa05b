"""Database URLs wherever a file path is accepted, against a real PostgreSQL server (a throw-away
cluster, tests/pg_server.py) and real SQLite and DuckDB files: the same answers as the CSV, and
one clear error per way it can go wrong, never with the password."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import crmclean
from crmclean.cli.main import app
from pg_server import SUPERUSER_PASSWORD, Cluster, running_cluster

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = str(ROOT / "rules" / "company.yaml")
STEWARD_PASSWORD = "steward-pw-7f3a"


def _ingest(url: str, frame: pl.DataFrame, table: str, driver: str) -> None:
    module = __import__(f"adbc_driver_{driver}.dbapi", fromlist=["connect"])
    with module.connect(url) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest(table, frame, mode="create")
        connection.commit()


@pytest.fixture(scope="module")
def customers() -> pl.DataFrame:
    return pl.read_csv(SAMPLE, infer_schema_length=0)


@pytest.fixture(scope="module")
def pg(customers: pl.DataFrame) -> Iterator[Cluster]:
    """sample_data in public.customers; `steward` may read it, `outsider` may not."""
    with running_cluster() as cluster:
        os.environ["PGPASSWORD"] = SUPERUSER_PASSWORD
        try:
            _ingest(cluster.url(), customers, "customers", "postgresql")
        finally:
            del os.environ["PGPASSWORD"]
        cluster.sql(f"CREATE ROLE steward LOGIN PASSWORD '{STEWARD_PASSWORD}'")
        cluster.sql(f"CREATE ROLE outsider LOGIN PASSWORD '{STEWARD_PASSWORD}'")
        cluster.sql("GRANT SELECT ON public.customers TO steward")
        yield cluster


def crmclean_cli(*argv: str, password: str | None = STEWARD_PASSWORD) -> tuple[int, str, str]:
    env = {"PGPASSWORD": password} if password else {"PGPASSWORD": ""}
    result = CliRunner().invoke(app, list(argv), env=env)
    return result.exit_code, result.stdout, result.stderr


def _validate_json(location: str) -> dict[str, object]:
    code, out, err = crmclean_cli("validate", location, "-r", RULES, "-f", "json")
    assert code == 1, err
    document: dict[str, object] = json.loads(out)
    return document


def _figures(document: dict[str, object]) -> list[tuple[object, ...]]:
    results = document["results"]
    assert isinstance(results, list)
    return [(r["rule_id"], r["status"], r["violations"]) for r in results]


def test_a_postgresql_table_validates_as_the_csv_does(pg: Cluster) -> None:
    from_db = _validate_json(pg.url("steward") + "?table=public.customers")
    assert _figures(from_db) == _figures(_validate_json(str(SAMPLE)))
    read = from_db["input"]
    assert isinstance(read, dict)
    assert read["path"] == pg.url("steward") + "?table=public.customers"
    assert read["format"] == "postgresql" and read["rows"] == 5000
    assert read["table"] == "public.customers"


def test_run_from_a_query_writes_no_password_and_no_query(pg: Cluster, tmp_path: Path) -> None:
    query = "SELECT * FROM customers WHERE country = 'DE'"
    out = tmp_path / "out"
    location = pg.url("steward") + "?query=" + query
    log = tmp_path / "run.log"
    code, _, err = crmclean_cli(
        "run", location, "-r", RULES, "-o", str(out), "--log-json", str(log)
    )
    assert code == 1, err
    manifest = json.loads((out / "manifest.json").read_text())
    (read,) = manifest["inputs"]
    assert read["path"].startswith(pg.url("steward") + "?query=sha256:")
    assert len(read["query_sha256"]) == 64 and "table" not in read
    assert manifest["rows"]["input"] == read["rows"] > 0
    for path in [*out.rglob("*"), log]:
        if path.is_file():
            data = path.read_bytes()
            assert STEWARD_PASSWORD.encode() not in data, path
            assert b"country = 'DE'" not in data, path


def test_the_password_may_come_from_a_pgpass_file(pg: Cluster, tmp_path: Path) -> None:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg.port}:crm:steward:{STEWARD_PASSWORD}\n")
    pgpass.chmod(0o600)
    location = pg.url("steward") + "?table=customers"
    result = CliRunner().invoke(
        app, ["profile", location, "-f", "json"], env={"PGPASSFILE": str(pgpass), "PGPASSWORD": ""}
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 5000


def test_the_python_api_reads_a_url(pg: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", STEWARD_PASSWORD)
    query = "SELECT * FROM customers ORDER BY customer_id LIMIT 300"
    frame = crmclean.read(pg.url("steward") + "?query=" + query, RULES)
    assert frame.height == 300 and frame.columns[0] == "record_id"


@pytest.mark.parametrize(
    ("suffix", "user", "password", "expected"),
    [
        ("?table=public.no_such_table", "steward", STEWARD_PASSWORD, "does not exist"),
        ("?table=public.customers", "outsider", STEWARD_PASSWORD, "permission denied"),
        ("?query=SELEC * FROM customers", "steward", STEWARD_PASSWORD, "syntax error"),
        ("?table=customers", "steward", "wrong-password-9", "password authentication failed"),
    ],
)
def test_the_databases_own_message_exit_3(
    pg: Cluster, suffix: str, user: str, password: str, expected: str
) -> None:
    code, _, err = crmclean_cli("validate", pg.url(user) + suffix, "-r", RULES, password=password)
    assert code == 3, err
    assert expected in err and "Traceback" not in err
    assert password not in err and len(err.strip().splitlines()) == 1


def test_an_unreachable_server_names_host_and_port(pg: Cluster) -> None:
    closed = f"postgresql://steward@127.0.0.1:{pg.port + 1}/crm?table=customers"
    code, _, err = crmclean_cli("validate", closed, "-r", RULES)
    assert code == 3
    assert f"cannot connect to 127.0.0.1:{pg.port + 1}" in err
    assert STEWARD_PASSWORD not in err


def test_a_password_in_the_url_is_refused_and_not_repeated() -> None:
    url = "postgresql://steward:hunter2-secret@db:5432/crm?table=customers"
    code, _, err = crmclean_cli("validate", url, "-r", RULES)
    assert code == 2
    assert "PGPASSWORD" in err and "hunter2-secret" not in err


def test_a_table_without_the_id_column_is_an_input_error(pg: Cluster) -> None:
    query = "SELECT first_name, last_name FROM customers"
    code, _, err = crmclean_cli("validate", pg.url("steward") + "?query=" + query, "-r", RULES)
    assert code == 3
    assert "lacks column(s) the rules need: 'customer_id'" in err
    assert "first_name, last_name" not in err.split("need:")[0]  # the query text is not shown


@pytest.fixture(scope="module")
def files(customers: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("databases")
    _ingest(str(folder / "crm.db"), customers, "customers", "sqlite")
    import duckdb

    with duckdb.connect(str(folder / "crm.duckdb")) as connection:
        connection.execute(
            "CREATE TABLE customers AS SELECT * FROM read_csv(?, all_varchar = true)",
            [str(SAMPLE)],
        )
    return folder


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_sqlite_and_duckdb_files_validate_as_the_csv_does(files: Path, kind: str) -> None:
    name = "crm.db" if kind == "sqlite" else "crm.duckdb"
    location = f"{kind}:///{files / name}?table=customers"
    assert _figures(_validate_json(location)) == _figures(_validate_json(str(SAMPLE)))


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_a_missing_database_file_is_exit_3_and_never_created(tmp_path: Path, kind: str) -> None:
    missing = tmp_path / f"nothing.{kind}"
    code, _, err = crmclean_cli("validate", f"{kind}:///{missing}?table=customers", "-r", RULES)
    assert code == 3 and str(missing) in err
    assert not missing.exists()


def test_an_out_folder_holding_the_database_file_is_refused(files: Path) -> None:
    location = f"sqlite:///{files / 'crm.db'}?table=customers"
    code, _, err = crmclean_cli("run", location, "-r", RULES, "-o", str(files))
    assert code == 3 and "crm.db" in err
    assert (files / "crm.db").is_file()


@pytest.mark.parametrize("command", ["validate", "profile", "run"])
@pytest.mark.parametrize("option", [["--encoding", "cp1252"], ["--delimiter", ";"]])
def test_csv_options_with_a_database_url_are_a_usage_error(
    files: Path, tmp_path: Path, command: str, option: list[str]
) -> None:
    location = f"sqlite:///{files / 'crm.db'}?table=customers"
    more = ["-o", str(tmp_path / "out")] if command == "run" else []
    code, _, err = crmclean_cli(command, location, "-r", RULES, *more, *option)
    assert code == 2, err
    assert f"{option[0]}: applies to a CSV file, not to a database" in err
    assert not (tmp_path / "out").exists()


def _hostless(*argv: str, **env: str) -> tuple[int, str, str]:
    clean = {"PGHOST": None, "PGPORT": None, "PGUSER": None, "PGSERVICE": None}
    result = CliRunner().invoke(
        app, list(argv), env={**clean, "PGPASSWORD": STEWARD_PASSWORD, **env}
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_service_file_url_without_a_host_reads(pg: Cluster, tmp_path: Path) -> None:
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[crmsvc]\nhost=127.0.0.1\nport={pg.port}\ndbname=crm\nuser=steward\n"
        f"[gone]\nhost=127.0.0.1\nport={pg.port + 1}\ndbname=crm\nuser=steward\n"
    )
    url = "postgresql:///?service=crmsvc&table=customers"
    code, out, err = _hostless(
        "validate", url, "-r", RULES, "-f", "json", PGSERVICEFILE=str(services)
    )
    assert code == 1, err
    assert json.loads(out)["input"]["rows"] == 5000
    assert json.loads(out)["input"]["path"] == "postgresql:///?table=customers"
    gone = "postgresql:///?service=gone&table=customers"
    code, _, err = _hostless("validate", gone, "-r", RULES, PGSERVICEFILE=str(services))
    assert code == 3, err
    assert "cannot connect to the server of the service 'gone'" in err
    assert "invalid connection option" not in err and STEWARD_PASSWORD not in err


def test_a_url_without_a_host_takes_pghost_and_pgport(pg: Cluster) -> None:
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGUSER": "steward"}
    code, out, err = _hostless(
        "validate", "postgresql:///crm?table=customers", "-r", RULES, "-f", "json", **env
    )
    assert code == 1, err
    assert json.loads(out)["input"]["path"] == "postgresql:///crm?table=customers"
    env["PGPORT"] = str(pg.port + 1)
    code, _, err = _hostless("validate", "postgresql:///crm?table=customers", "-r", RULES, **env)
    assert code == 3, err
    assert f"cannot connect to 127.0.0.1:{pg.port + 1}" in err
