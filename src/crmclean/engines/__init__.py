"""Matching engines behind core/matching/engine.py's protocol, chosen by name
(`--engine`, or `engine:` in the rule file). The polars engine is the core's own; the others
import their optional dependencies only when chosen, so a missing one is a usage error that
says what to install, not an ImportError at start-up."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from crmclean.core.batched import DEFAULT_BATCH_ROWS
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


def start_spark(master: str | None) -> None:
    """Start (or find) the Spark session the spark engine will run in: `master` is
    --spark-master (None: the active session, SPARK_REMOTE, else local[*])."""
    check_engine("spark")
    from crmclean.engines.spark_engine.session import session

    session(master)


# Memory allowed per batch row through clean and validate: `clean` of 100k rows with
# company.yaml peaked 0.26 GB above the interpreter's 0.21 GB (about 2.6 KB a row, input and
# output included); 10 KB a row leaves room for wider rule files. 4GB gives 400,000-row batches.
_BATCH_BYTES_PER_ROW = 10_000
_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def memory_bytes(memory: str) -> int:
    """ "4GB" -> 4_000_000_000 (DuckDB's units: KB, MB, GB are powers of 1000, KiB ... of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", memory)
    unit = found.group(2).lower() if found else None
    if found is None or unit not in _UNITS:
        raise UsageError(f"--memory: {memory!r} is not a size", hint="e.g. 4GB")
    return int(float(found.group(1)) * _UNITS[unit])


def batch_rows(name: str, memory: str | None = None) -> int | None:
    """Rows per batch for clean and validate: None (the whole frame at once) on the polars
    engine; on the out-of-core engines batches whose working copies fit the --memory budget."""
    check_engine(name)
    if name == "polars":
        return None
    if memory is None:
        return DEFAULT_BATCH_ROWS
    return max(10_000, min(1_000_000, memory_bytes(memory) // _BATCH_BYTES_PER_ROW))
