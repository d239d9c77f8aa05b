"""The Spark engine's own promises: nothing of record or pair size comes back to the driver
(every Spark test runs with spark.driver.maxResultSize of a few MB), and a missing pyspark or
Java is a usage error that says what to install. Its case tables, blocking, clustering and
sample_data end to end run with the other engines' in test_matching_comparators.py,
test_matching_missing_values.py and test_engines.py."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import polars as pl
import pytest

from crmclean.core.matching import MatchingSpec, dedupe
from crmclean.engines import check_engine, open_engine
from crmclean.errors import UsageError
from spark_session import MAX_RESULT, spark_session

N = 200_000


def _records() -> pl.DataFrame:
    """200k customers in blocks of 8 by postcode (700k candidate pairs), 1% of them exact
    copies of their block's first record."""
    rng = np.random.default_rng(7)
    first = np.array(["anna", "otto", "maria", "jan", "eva", "paul", "lena", "tom"])
    last = np.array([f"name{i}" for i in range(5000)])
    names = np.char.add(np.char.add(rng.choice(first, N), " "), rng.choice(last, N))
    emails = np.array([f"c{i}@example.org" for i in range(N)])
    copies = np.flatnonzero(rng.random(N) < 0.01)
    source = copies - copies % 8
    names[copies], emails[copies] = names[source], emails[source]
    return pl.DataFrame(
        {
            "record_id": [f"r{i:06d}" for i in range(N)],
            "name": names,
            "email": emails,
            "pc": [f"{i // 8:05d}" for i in range(N)],
        }
    )


SPEC = MatchingSpec(
    blocking=[{"columns": ["pc"], "max_block_size": 10}],
    comparisons=[
        {
            "name": "name",
            "column": "name",
            "levels": [
                "exact",
                {"type": "similarity", "metric": "jaro_winkler", "threshold": 0.9},
                "else",
            ],
        },
        {"name": "email", "column": "email", "levels": ["exact", "else"]},
    ],
)  # fmt: skip


@pytest.mark.spark
def test_a_200k_run_brings_nothing_of_record_size_to_the_driver() -> None:
    spark = spark_session()
    assert spark.conf.get("spark.driver.maxResultSize") == MAX_RESULT
    engine = open_engine("spark")
    try:
        result = dedupe(_records(), SPEC, engine=engine)
        # the guard is real: the records' ids alone are more than the driver may take back
        with pytest.raises(Exception, match="maxResultSize"):
            spark.sql("SELECT record_id, _row FROM records").toArrow()
    finally:
        engine.close()
    stats: dict[str, Any] = result.stats
    assert stats["records"] == N and stats["candidate_pairs"] == 700_000
    clusters = result.clusters
    assert clusters.height == N
    merged = clusters.group_by("cluster_id").len().filter(pl.col("len") > 1)
    assert 1_500 <= merged.height <= 2_000  # ~1% copies, each with its block's first record


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark not installed")
def test_a_missing_java_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    session = importlib.import_module("crmclean.engines.spark_engine.session")
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(session.shutil, "which", lambda _: None)
    with pytest.raises(UsageError, match="Java was not found") as info:
        session.session("local[1]")
    assert info.value.exit_code == 2 and "openjdk-17-jre-headless" in (info.value.hint or "")


def test_a_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a)
    )
    with pytest.raises(UsageError, match="the spark engine is not installed") as info:
        check_engine("spark")
    assert "pip install 'crmclean[spark]'" in (info.value.hint or "")


@pytest.mark.spark
def test_seeded_positions_are_the_rows_at_those_places_in_order() -> None:
    """The EM sample and the recall budget pick rows by position in (row_l, row_r) order, as
    numpy drew them: the same rows as the polars engine's, however Spark partitions the pairs
    (and without RDDs, which Spark Connect lacks)."""
    from crmclean.engines.spark_engine.positions import keep_positions

    spark = spark_session()
    rng = np.random.default_rng(3)
    pairs = pl.DataFrame(
        {"row_l": rng.integers(0, 400, 6_000), "row_r": rng.integers(400, 800, 6_000)}
    ).unique()
    shuffled = spark.createDataFrame(pairs.sample(fraction=1.0, shuffle=True, seed=1).to_arrow())
    positions = np.sort(rng.choice(pairs.height, size=500, replace=False))
    kept = keep_positions(spark, shuffled.repartition(7), ["row_l", "row_r"], positions)
    try:
        got = pl.DataFrame(pl.from_arrow(kept.toArrow())).sort("row_l", "row_r")
    finally:
        kept.unpersist()
    expected = pairs.sort("row_l", "row_r")[positions.tolist()]
    assert got.equals(expected.cast(got.schema))
