"""Run by tests/test_spark_connect.py in a fresh interpreter with SPARK_REMOTE=local[2] (pyspark
starts a Spark Connect server in this process; the engine is a Connect client of it): matching
on Spark Connect gives the polars engine's model and clusters, with the EM sample and the
recall budget both drawn by position (the path that used RDDs, which Connect lacks)."""

from __future__ import annotations

import numpy as np
import polars as pl
from pyspark.sql.connect.session import SparkSession as ConnectSession

import crmclean.engines.spark_engine.recall as spark_recall
from crmclean.core.matching import MatchingSpec, dedupe
from crmclean.engines import open_engine

rng = np.random.default_rng(11)
N = 600
first = rng.choice(np.array(["anna", "otto", "maria", "jan", "eva", "paul"]), N)
last = rng.choice(np.array([f"name{i}" for i in range(60)]), N)
names = np.char.add(np.char.add(first, " "), last)
copies = np.flatnonzero(rng.random(N) < 0.1)
names[copies] = names[copies - copies % 5]
records = pl.DataFrame(
    {
        "record_id": [f"r{i:04d}" for i in range(N)],
        "name": names,
        "city": rng.choice(np.array(["berlin", "bonn", "kiel"]), N),
        "pc": [f"{i // 5:04d}" for i in range(N)],
    }
)
spec = MatchingSpec(
    blocking=[{"columns": ["pc"]}, {"columns": ["city"], "max_block_size": 250}],
    comparisons=[
        {"name": "name", "column": "name", "levels": [
            "exact", {"type": "similarity", "metric": "jaro_winkler", "threshold": 0.9}, "else"]},
        {"name": "city", "column": "city", "levels": ["exact", "else"]},
    ],
    training={"em_max_pairs": 500},
)  # fmt: skip
spark_recall.LOOSE_PAIR_BUDGET = 2_000  # the recall sample drawn by position too

engine = open_engine("spark")
assert isinstance(engine.spark, ConnectSession), type(engine.spark)
try:
    on_connect = dedupe(records, spec, engine=engine)
finally:
    engine.close()
on_polars = dedupe(records, spec)
assert on_connect.stats["candidate_pairs"] > spec.training.em_max_pairs
assert on_connect.stats["blocking_recall"]["loose_pairs_scored"] == 2_000, on_connect.stats
assert on_connect.model == on_polars.model
assert on_connect.clusters.equals(on_polars.clusters)
print("same model and clusters on Spark Connect")
