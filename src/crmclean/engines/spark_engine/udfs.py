"""Python functions Spark SQL calls where it lacks them, vectorised over Arrow batches
(`arrow_udf`): the rapidfuzz metrics Spark has no built-in for, phonetic codes (jellyfish) and
nicknames, each the very function the polars engine uses. The names are the ones the shared
level SQL (engines/sql/levels.py) calls."""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql.pandas.functions import arrow_udf as _typed_arrow_udf

from crmclean.core.matching.comparators import phonetic_codes
from crmclean.core.matching.metrics import metric_scores, metrics
from crmclean.core.matching.nicknames import resolve_nicknames
from crmclean.engines.sql.dialect import SPARK

# scalar Arrow UDFs (the type hints pa.Array -> pa.Array say so); the stubs' overloads ask for
# an explicit functionType the runtime infers from those hints
arrow_udf: Any = _typed_arrow_udf


def _series(values: pa.Array) -> pl.Series:
    return pl.Series(pl.from_arrow(values)).cast(pl.String)


def _metric(name: str) -> Any:
    def score(left: pa.Array, right: pa.Array) -> pa.Array:
        scores = metric_scores(name, _series(left), _series(right), workers=1)
        return pa.array(scores, type=pa.float64())

    return arrow_udf(score, "double")


def _phonetic(algorithm: str) -> Any:
    def code(values: pa.Array) -> pa.Array:
        codes = phonetic_codes(_series(values), algorithm).cast(pl.String)
        return codes.to_arrow().cast(pa.string())

    return arrow_udf(code, "string")


def _nickname(values: pa.Array) -> pa.Array:
    return resolve_nicknames(_series(values)).cast(pl.String).to_arrow().cast(pa.string())


def register(spark: SparkSession) -> None:
    for name in metrics.names():
        if name not in SPARK.built_in:
            spark.udf.register(f"rapidfuzz_{name}", _metric(name))
    for algorithm in ("metaphone", "soundex", "nysiis", "match_rating"):
        spark.udf.register(f"phonetic_{algorithm}", _phonetic(algorithm))
    spark.udf.register("nickname", arrow_udf(_nickname, "string"))
