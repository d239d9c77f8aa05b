"""`crmclean run --incremental` on sample_data: what a full run gives, nothing lost, and a full
run instead (said on the console and in the manifest) when building on yesterday is unsafe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crmclean.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "company.yaml"
SAMPLE = ROOT / "sample_data" / "customers.csv"
TABLES = ("golden", "crosswalk", "lineage", "review", "pairs", "clusters", "violations", "clean")
runner = CliRunner()


def run(data: Path, out: Path, *extra: str) -> tuple[int, str]:
    args = ["run", str(data), "-r", str(RULES), "-o", str(out), "--previous", str(out)]
    done = runner.invoke(app, [*args, "--no-report", "-q", *extra])
    return done.exit_code, done.stderr


def manifest(out: Path) -> dict[str, object]:
    data = json.loads((out / "manifest.json").read_text())
    assert isinstance(data, dict)
    return data


def table(out: Path, name: str) -> pl.DataFrame:
    frame = pl.read_parquet(out / f"{name}.parquet")
    if name != "violations":
        return frame
    # "in the future (after <now>)": a full run a minute later says another minute as well
    timed = pl.col("check").is_in(["not_in_future", "freshness"])
    return frame.with_columns(pl.when(timed).then(None).otherwise(pl.col("message")).alias("message"))


@pytest.fixture(scope="module")
def night1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full run on sample_data: yesterday's folder (copy it before building on it)."""
    out = tmp_path_factory.mktemp("night1") / "out"
    code, _ = run(SAMPLE, out)
    assert code in (0, 1)
    return out


def copy_of(night: Path, where: Path) -> Path:
    shutil.copytree(night, where)
    return where


def edited(where: Path) -> Path:
    """sample_data with 20 records deleted, 25 edited and 30 added (15 copies of customers)."""
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    frame = frame.filter(~pl.int_range(pl.len()).is_between(100, 119))
    row = pl.int_range(pl.len())
    frame = frame.with_columns(
        pl.when(row.is_between(200, 209))
        .then("x" + pl.col("email").fill_null(""))
        .otherwise(pl.col("email"))
        .alias("email"),
        pl.when(row.is_between(300, 309))
        .then(pl.col("last_name") + "e")
        .otherwise(pl.col("last_name"))
        .alias("last_name"),
        pl.when(row.is_between(400, 404)).then(None).otherwise(pl.col("phone")).alias("phone"),
    )
    copies = frame[1000:1015].with_columns(
        ("N" + pl.col("customer_id")).alias("customer_id"), pl.lit("webshop").alias("source_system")
    )
    others = frame[2000:2015].with_columns(
        ("F" + pl.col("customer_id")).alias("customer_id"), pl.lit(None).alias("email")
    )
    path = where / "customers.csv"
    pl.concat([frame, copies, others]).write_csv(path)
    return path


def test_incremental_gives_the_golden_ids_of_a_full_run(night1: Path, tmp_path: Path) -> None:
    data = edited(tmp_path)
    full = copy_of(night1, tmp_path / "full")
    fast = copy_of(night1, tmp_path / "fast")
    assert run(data, full)[0] == run(data, fast, "--incremental")[0]
    said = manifest(fast)
    assert said["run_mode"] == "incremental" and manifest(full)["run_mode"] == "full"
    counts = said["incremental"]
    assert isinstance(counts, dict)
    assert (counts["new"], counts["deleted"]) == (30, 20)
    assert 0 < counts["changed"] <= 25 and counts["clusters_touched"] > 0
    ids = table(full, "crosswalk").join(table(fast, "crosswalk"), on="record_id", suffix="_i")
    assert ids.height == table(full, "crosswalk").height
    same = (ids["golden_id"] == ids["golden_id_i"]).mean()
    assert same is not None and same >= 0.999
    # clusters and survivorship are exactly a full run's; scores may drift (docs/nightly.md)
    for name in ("golden", "lineage", "clusters", "changes-since-previous", "clean"):
        assert_frame_equal(table(full, name), table(fast, name))
    # nothing lost: every input row is in the crosswalk once
    given = pl.read_csv(data, infer_schema=False)["customer_id"].sort()
    assert table(fast, "crosswalk")["record_id"].sort().to_list() == given.to_list()
    assert said["rows_add_up"] is True


def test_unchanged_input_gives_identical_outputs(night1: Path, tmp_path: Path) -> None:
    again = copy_of(night1, tmp_path / "again")
    run(SAMPLE, again, "--incremental")
    counts = manifest(again)["incremental"]
    assert counts == {
        "requested": True,
        "fallback_reason": None,
        "new": 0,
        "changed": 0,
        "deleted": 0,
        "unchanged": 5000,
        "clusters_touched": 0,
        "golden_rebuilt": 0,
    }
    for name in TABLES:
        assert_frame_equal(table(night1, name), table(again, name))
    assert table(again, "changes-since-previous").is_empty()


def test_an_unsafe_night_is_a_full_run_that_says_why(night1: Path, tmp_path: Path) -> None:
    out = copy_of(night1, tmp_path / "out")
    code, stderr = run(SAMPLE, out, "--incremental", "--retrain")
    said = manifest(out)
    assert said["run_mode"] == "full"
    assert said["incremental"] == {
        "requested": True,
        "fallback_reason": "--retrain: a new model scores every pair again",
    }
    assert "full run instead of incremental: --retrain" in stderr
    assert code in (0, 1)


def test_the_next_night_builds_on_an_incremental_one(night1: Path, tmp_path: Path) -> None:
    out = copy_of(night1, tmp_path / "out")
    data = edited(tmp_path)
    run(data, out, "--incremental")
    run(SAMPLE, out, "--incremental")  # back to the sample: the edits undone
    assert manifest(out)["run_mode"] == "incremental"
    for name in ("golden", "lineage", "clusters", "clean"):
        left = table(night1, name)
        right = table(out, name)
        if name in ("golden", "lineage"):  # ids handed out on the night between stay used
            assert right.height == left.height
            continue
        assert_frame_equal(left, right)
