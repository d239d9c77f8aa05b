"""Which engine a command runs on: --engine, else the rule file's `engine:`, else polars;
--memory caps the duckdb engine (and sizes the batches clean and validate run in there),
--spark-master says where the spark engine runs.
Problems are usage errors naming the option or the rule file's line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import stderr_console
from crmclean.config.loader import LoadedRules
from crmclean.core.matching import MatchingEngine
from crmclean.engines import DEFAULT, batch_rows, check_engine, open_engine
from crmclean.errors import ConfigError, UsageError

EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Engine: polars (in memory, default), duckdb (on disk, bounded by --memory; "
        "pip install 'crmclean[duckdb]') or spark (a cluster, see --spark-master; "
        "pip install 'crmclean[spark]'). Overrides engine: in the rule file.",
        show_default=False,
    ),
]
MemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--memory",
        help="Memory budget of the duckdb engine, e.g. 4GB (DuckDB spills to disk beyond it; "
        "cleaning and checks run in batches sized to it).",
        show_default=False,
    ),
]

SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Where the spark engine runs: local[*] (the default), spark://host:7077, yarn, "
        "k8s://... SPARK_REMOTE=sc://... (Spark Connect) or an active session take precedence.",
        show_default=False,
    ),
]

_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def engine_name(option: str | None, loaded: LoadedRules) -> str:
    """The engine asked for, checked: a known name whose dependencies are installed."""
    if option is not None:
        return check_engine(option, "--engine")
    chosen = loaded.rules.engine or DEFAULT
    try:
        return check_engine(chosen, "engine")
    except UsageError as exc:
        raise ConfigError([loaded.issue(("engine",), exc.message, exc.hint)]) from None


def _checked_memory(memory: str | None) -> None:
    if memory is not None and not _SIZE.match(memory):
        raise UsageError(
            f"--memory: {memory!r} is not a size", hint="give a number and a unit, e.g. 4GB"
        )


def _say_memory_unused(name: str, memory: str | None) -> None:
    """--memory with the polars engine caps nothing: say so rather than let it seem to."""
    if memory is not None and name == "polars":
        stderr_console().print(
            f"crmclean: warning: --memory {memory} is ignored: the polars engine holds the data "
            "in memory; add --engine duckdb to cap it",
            markup=False,
        )


def batches_of(option: str | None, memory: str | None, loaded: LoadedRules) -> int | None:
    """Rows per batch of clean and validate on the engine asked for (None: all at once)."""
    name = engine_name(option, loaded)
    _checked_memory(memory)
    _say_memory_unused(name, memory)
    return batch_rows(name, memory)


def choose_engine(
    option: str | None,
    memory: str | None,
    loaded: LoadedRules,
    out: Path | None,
    spark_master: str | None = None,
    *,
    said: bool = False,
) -> MatchingEngine:
    """A fresh engine for this command (the caller closes it); DuckDB's files go beside --out.
    `said`: batches_of has already warned about an unused --memory."""
    name = engine_name(option, loaded)
    _checked_memory(memory)
    if not said:
        _say_memory_unused(name, memory)
    if spark_master is not None and name != "spark":
        raise UsageError(
            f"--spark-master: the {name} engine does not run on Spark",
            hint="add --engine spark, or leave --spark-master out",
        )
    return open_engine(
        name,
        memory=memory,
        temp_root=out.absolute().parent if out is not None else None,
        spark_master=spark_master,
    )
