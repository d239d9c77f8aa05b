"""`run --publish` replaces only tables crmclean published there, and never the run's input:
a steward's own tables of the same names stay, against a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from pg_server import Cluster, running_cluster

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = str(ROOT / "rules" / "company.yaml")
PASSWORD = "steward-pw-7d2e"


@pytest.fixture(scope="module")
def pg() -> Iterator[Cluster]:
    with running_cluster() as cluster:
        cluster.sql(f"CREATE ROLE steward LOGIN PASSWORD '{PASSWORD}'")
        cluster.sql("GRANT CREATE ON DATABASE crm TO steward")
        cluster.sql("CREATE SCHEMA shop AUTHORIZATION steward")
        cluster.sql("CREATE TABLE shop.review(product text, stars int, body text)")
        cluster.sql("INSERT INTO shop.review VALUES ('kettle', 5, 'great')")
        cluster.sql("CREATE TABLE shop.golden AS SELECT g AS n FROM generate_series(1, 300) AS g")
        cluster.sql("ALTER TABLE shop.review OWNER TO steward")
        cluster.sql("ALTER TABLE shop.golden OWNER TO steward")
        yield cluster


@pytest.fixture(scope="module")
def part(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "customers.parquet"
    pl.read_csv(SAMPLE, infer_schema_length=0).head(600).write_parquet(path)
    return path


def run(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", *argv, "-q"], env={"PGPASSWORD": PASSWORD})
    return result.exit_code, " ".join(result.stderr.split())


def count(pg: Cluster, schema: str, name: str) -> int:
    import adbc_driver_postgresql.dbapi as pgdb

    os.environ["PGPASSWORD"] = PASSWORD
    try:
        with pgdb.connect(pg.url("steward")) as connection, connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) AS n FROM "{schema}"."{name}"')
            return int(pl.DataFrame(cursor.fetch_arrow())["n"][0])
    finally:
        del os.environ["PGPASSWORD"]


def test_the_runs_input_table_is_never_replaced(pg: Cluster, tmp_path: Path) -> None:
    source = pg.url("steward") + "?table=shop.golden"
    target = pg.url("steward") + "?schema=shop"
    out = tmp_path / "o"
    code, err = run(source, "-r", RULES, "-o", str(out), "--publish", target)
    assert code == 2, err
    assert "would replace shop.golden, which this run reads" in err
    assert PASSWORD not in err
    assert not out.exists()
    assert count(pg, "shop", "golden") == 300 and count(pg, "shop", "review") == 1


def test_tables_crmclean_did_not_publish_are_refused_before_anything_is_written(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    code, err = run(
        str(part), "-r", RULES, "-o", str(out), "--publish", pg.url("steward") + "?schema=shop"
    )
    assert code == 3, err
    assert "shop.golden, shop.review were not published by crmclean" in err
    assert "nothing was written" in err
    assert not out.exists()
    assert count(pg, "shop", "golden") == 300 and count(pg, "shop", "review") == 1


def test_a_schema_crmclean_published_is_replaced_but_its_golden_is_not_an_input(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    target = pg.url("steward") + "?schema=mdm"
    assert run(str(part), "-r", RULES, "-o", str(tmp_path / "a"), "--publish", target)[0] == 1
    # a second night replaces what the first published
    assert run(str(part), "-r", RULES, "-o", str(tmp_path / "b"), "--publish", target)[0] == 1
    # crmclean's own golden table, read as the input, is not replaced by the run reading it
    source = pg.url("steward") + "?table=mdm.golden"
    code, err = run(source, "-r", RULES, "-o", str(tmp_path / "c"), "--publish", target)
    assert code == 2 and "which this run reads" in err, err


def test_a_crmclean_run_table_that_is_not_crmcleans_is_refused(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    pg.sql("CREATE SCHEMA fake AUTHORIZATION steward")
    pg.sql("CREATE TABLE fake.crmclean_run(manifest text)")
    pg.sql("""INSERT INTO fake.crmclean_run VALUES ('{"note": "not a run"}')""")
    pg.sql("CREATE TABLE fake.lineage(x int)")
    pg.sql("ALTER TABLE fake.crmclean_run OWNER TO steward")
    pg.sql("ALTER TABLE fake.lineage OWNER TO steward")
    target = pg.url("steward") + "?schema=fake"
    code, err = run(str(part), "-r", RULES, "-o", str(tmp_path / "o"), "--publish", target)
    assert code == 3, err
    assert "fake.lineage, fake.crmclean_run were not published by crmclean" in err


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM shop.golden",
        'SELECT g.* FROM "shop"."golden" g',
        "SELECT * FROM shop . review WHERE stars > 3",
        "SELECT * FROM customers c JOIN SHOP.Crosswalk x USING (record_id)",
    ],
)
def test_a_query_reading_a_table_the_publish_replaces_is_refused(
    pg: Cluster, tmp_path: Path, query: str
) -> None:
    source = pg.url("steward") + "?query=" + query
    out = tmp_path / "o"
    code, err = run(
        source, "-r", RULES, "-o", str(out), "--publish", pg.url("steward") + "?schema=shop"
    )
    assert code == 2, err
    assert "which this run's query may read" in err and query not in err
    assert not out.exists()
    assert count(pg, "shop", "golden") == 300 and count(pg, "shop", "review") == 1


def test_a_bare_name_counts_only_where_the_search_path_finds_it(
    pg: Cluster, tmp_path: Path
) -> None:
    """`golden` unqualified is public.golden (or the user's own schema), not shop.golden: the
    run goes on to the next guard (shop holds tables crmclean did not publish: exit 3)."""
    source = pg.url("steward") + "?query=SELECT * FROM golden"
    target = pg.url("steward") + "?schema=shop"
    code, err = run(source, "-r", RULES, "-o", str(tmp_path / "o"), "--publish", target)
    assert code == 3 and "not published by crmclean" in err, err
    code, err = run(source, "-r", RULES, "-o", str(tmp_path / "p"), "--publish", pg.url("steward"))
    assert code == 2 and "would replace public.golden, which this run's query may read" in err
