"""`run --publish URL` against a real PostgreSQL server: the run's tables swapped in at once,
yesterday's kept whole when the swap fails half-way, and `--previous URL` reading them back."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crmclean.cli.main import app
from pg_server import Cluster, running_cluster

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = str(ROOT / "rules" / "company.yaml")
MDM_PASSWORD = "mdm-pw-51c9"
TABLES = ("golden", "crosswalk", "lineage", "review")


@pytest.fixture(scope="module")
def pg() -> Iterator[Cluster]:
    with running_cluster() as cluster:
        cluster.sql(f"CREATE ROLE mdm LOGIN PASSWORD '{MDM_PASSWORD}'")
        cluster.sql("GRANT CREATE ON DATABASE crm TO mdm")
        yield cluster


@pytest.fixture(scope="module")
def part(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 customers: enough to match, quick to run twice."""
    path = tmp_path_factory.mktemp("input") / "customers.parquet"
    pl.read_csv(SAMPLE, infer_schema_length=0).head(1500).write_parquet(path)
    return path


def run(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", *argv, "-q"], env={"PGPASSWORD": MDM_PASSWORD})
    return result.exit_code, result.stderr


def table(pg: Cluster, schema: str, name: str) -> pl.DataFrame:
    import adbc_driver_postgresql.dbapi as pgdb

    os.environ["PGPASSWORD"] = MDM_PASSWORD
    try:
        with pgdb.connect(pg.url("mdm")) as connection, connection.cursor() as cursor:
            cursor.execute(f'SELECT * FROM "{schema}"."{name}"')
            return pl.DataFrame(cursor.fetch_arrow())
    finally:
        del os.environ["PGPASSWORD"]


def test_publish_writes_the_run_tables_and_the_manifest(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    target = pg.url("mdm") + "?schema=golden"
    code, err = run(str(part), "-r", RULES, "-o", str(tmp_path / "out"), "--publish", target)
    assert code == 1, err  # the sample data fails an error-severity rule on purpose
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["published"]["url"] == target
    for name in TABLES:
        written = pl.read_parquet(tmp_path / "out" / f"{name}.parquet")
        published = table(pg, "golden", name)
        assert manifest["published"]["tables"][name] == written.height == published.height
        assert published.columns == written.columns
    golden = table(pg, "golden", "golden").sort("golden_id")
    written = pl.read_parquet(tmp_path / "out" / "golden.parquet").sort("golden_id")
    assert_frame_equal(golden, written, check_dtypes=False)
    (row,) = table(pg, "golden", "crmclean_run").iter_rows(named=True)
    assert json.loads(row["manifest"])["golden_ids"] == manifest["golden_ids"]
    assert json.loads(row["model"])["comparisons"]
    assert MDM_PASSWORD not in row["manifest"]


def test_previous_from_the_published_tables_keeps_golden_ids(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    target = pg.url("mdm") + "?schema=nightly"
    first, second = tmp_path / "first", tmp_path / "second"
    assert run(str(part), "-r", RULES, "-o", str(first), "--publish", target)[0] == 1
    before = table(pg, "nightly", "crosswalk").select("record_id", "golden_id")
    code, err = run(
        str(part), "-r", RULES, "-o", str(second), "--previous", target, "--publish", target
    )
    assert code == 1, err
    after = table(pg, "nightly", "crosswalk").select("record_id", "golden_id")
    assert_frame_equal(before.sort("record_id"), after.sort("record_id"))
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["previous"] == target


def test_a_publish_failing_half_way_leaves_yesterdays_tables_and_folder(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    target = pg.url("mdm") + "?schema=shared"
    out = tmp_path / "out"
    assert run(str(part), "-r", RULES, "-o", str(out), "--publish", target)[0] == 1
    yesterday = {name: table(pg, "shared", name) for name in (*TABLES, "crmclean_run")}
    folder = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    # a report someone built on the review queue: the swap cannot drop that table
    pg.sql("CREATE VIEW shared.open_reviews AS SELECT * FROM shared.review")
    pg.sql("GRANT SELECT ON shared.open_reviews TO mdm")
    smaller = tmp_path / "smaller.parquet"
    pl.read_parquet(part).head(900).write_parquet(smaller)
    code, err = run(str(smaller), "-r", RULES, "-o", str(out), "--publish", target)
    assert code == 3
    assert "publishing failed, the published tables are as they were" in err
    assert "depend" in err and MDM_PASSWORD not in err
    for name, frame in yesterday.items():  # golden, crosswalk, lineage were swapped, then undone
        assert_frame_equal(table(pg, "shared", name), frame)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == folder
    staged = table(pg, "pg_catalog", "pg_tables").filter(pl.col("schemaname") == "shared")
    assert sorted(staged["tablename"]) == sorted([*TABLES, "crmclean_run"])


def test_publish_and_previous_urls_are_checked_first(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "out")
    code, err = run(str(part), "-r", RULES, "-o", out, "--publish", "sqlite:///x.db")
    assert code == 2 and "PostgreSQL only" in err
    secret = f"postgresql://mdm:{MDM_PASSWORD}@127.0.0.1:{pg.port}/crm?schema=golden"
    code, err = run(str(part), "-r", RULES, "-o", out, "--publish", secret)
    assert code == 2 and MDM_PASSWORD not in err
    nothing = pg.url("mdm") + "?schema=never_published"
    code, err = run(str(part), "-r", RULES, "-o", out, "--previous", nothing)
    assert code == 3 and "no published run to read" in err
    assert not Path(out).exists()


def test_the_trend_goes_on_through_the_published_tables(
    pg: Cluster, part: Path, tmp_path: Path
) -> None:
    target = pg.url("mdm") + "?schema=trend"
    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    assert run(str(part), "-r", RULES, "-o", str(first), "--publish", target)[0] == 1
    (row,) = table(pg, "trend", "crmclean_run").iter_rows(named=True)
    assert json.loads(row["history"]) == json.loads((first / "history.json").read_text())
    # the next night keeps no folder: only the published tables know the first night
    code, err = run(
        str(part), "-r", RULES, "-o", str(second), "--previous", target, "--publish", target
    )
    assert code == 1, err
    nights = json.loads((second / "history.json").read_text())["nights"]
    first_night = json.loads((first / "history.json").read_text())["nights"]
    assert len(nights) == 2 and nights[0] == first_night[0]
    finished = json.loads((second / "manifest.json").read_text())["finished_at"]
    assert nights[1]["finished_at"] == finished
    assert "2 nights recorded in history.json" in (second / "report.html").read_text()
    # tables published before history was kept: read as before, the trend starts there
    pg.sql("ALTER TABLE trend.crmclean_run DROP COLUMN history")
    code, err = run(str(part), "-r", RULES, "-o", str(third), "--previous", target)
    assert code == 1, err
    assert len(json.loads((third / "history.json").read_text())["nights"]) == 1
