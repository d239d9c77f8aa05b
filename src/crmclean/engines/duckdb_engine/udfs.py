"""Python functions DuckDB calls where SQL lacks them, vectorised over Arrow batches: the
rapidfuzz metrics DuckDB has no built-in for, phonetic codes (jellyfish) and nicknames, each the
very function the polars engine uses."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
from duckdb.func import PythonUDFType

from crmclean.core.matching.comparators import phonetic_codes
from crmclean.core.matching.metrics import metric_scores, metrics
from crmclean.core.matching.nicknames import resolve_nicknames
from crmclean.engines.sql.dialect import DUCKDB

ARROW = PythonUDFType.ARROW


def _series(values: Any) -> pl.Series:
    return pl.Series(pl.from_arrow(values)).cast(pl.String)


def _metric(name: str) -> Any:
    def run(left: Any, right: Any) -> Any:
        scores = metric_scores(name, _series(left), _series(right), workers=1)
        return pa.array(scores, type=pa.float64())

    return run


def _phonetic(algorithm: str) -> Any:
    def run(values: Any) -> Any:
        return phonetic_codes(_series(values), algorithm).to_arrow()

    return run


def _nickname(values: Any) -> Any:
    return resolve_nicknames(_series(values)).cast(pl.String).to_arrow()


def register(con: duckdb.DuckDBPyConnection) -> None:
    text, double = duckdb.sqltype("VARCHAR"), duckdb.sqltype("DOUBLE")
    for name in metrics.names():
        if name not in DUCKDB.built_in:
            con.create_function(
                f"rapidfuzz_{name}", _metric(name), [text, text], double, type=ARROW
            )
    for algorithm in ("metaphone", "soundex", "nysiis", "match_rating"):
        con.create_function(f"phonetic_{algorithm}", _phonetic(algorithm), [text], text, type=ARROW)
    con.create_function("nickname", _nickname, [text], text, type=ARROW)
