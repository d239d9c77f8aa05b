"""Matching engines behind core/matching/engine.py's protocol, chosen by name
(`--engine`, or `engine:` in the rule file). The polars engine is the core's own; the others
import their optional dependencies only when chosen, so a missing one is a usage error that
says what to install, not an ImportError at start-up."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from crmclean.core.matching.engine import ENGINE_NAMES, MatchingEngine
from crmclean.core.matching.engine_polars import PolarsEngine
from crmclean.errors import UsageError

ENGINES = ENGINE_NAMES
DEFAULT = "polars"


def check_engine(name: str, where: str = "--engine") -> str:
    """`name` if it is a known engine whose dependencies are installed."""
    if name not in ENGINES:
        raise UsageError(
            f"{where}: unknown engine {name!r}", hint="choose one of: " + ", ".join(ENGINES)
        )
    if name == "duckdb" and not all(
        importlib.util.find_spec(module) for module in ("duckdb", "pyarrow")
    ):
        raise UsageError(
            f"{where}: the duckdb engine is not installed",
            hint="pip install 'crmclean[duckdb]'",
        )
    if name == "spark" and not all(
        importlib.util.find_spec(module) for module in ("pyspark", "pyarrow")
    ):
        raise UsageError(
            f"{where}: the spark engine is not installed",
            hint="pip install 'crmclean[spark]' (and Java 17 or newer)",
        )
    return name


def open_engine(
    name: str,
    *,
    memory: str | None = None,
    temp_root: Path | None = None,
    spark_master: str | None = None,
) -> MatchingEngine:
    """A fresh engine for one run; the caller closes it. `memory` ("4GB") caps DuckDB;
    `spark_master` is where Spark runs (None: an active session, SPARK_REMOTE, else local[*])."""
    check_engine(name)
    if name == "spark":
        from crmclean.engines.spark_engine import SparkEngine

        return SparkEngine(master=spark_master)
    if name == "duckdb":
        from crmclean.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(memory=memory, temp_root=temp_root)
    return PolarsEngine()
