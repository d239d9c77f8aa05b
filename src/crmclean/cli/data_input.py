"""Where a command's customer data comes from: INPUT (a file, `-`, or a database URL) or, when
it is left out, the rule file's `sources:` section, read exactly as `run` reads it
(crmclean.config.source_reads). One of the two names the data: neither or both is exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean.config.loader import LoadedRules
from crmclean.config.source_reads import source_locations
from crmclean.engines import start_spark
from crmclean.errors import UsageError
from crmclean.io.locations import Location, location_files, parse_location
from crmclean.io.storage_uri import StorageUri, uri_as_path

DataArg = Annotated[
    str | None,
    typer.Argument(
        help="Customer data: a CSV, Parquet, NDJSON or Excel file ('-' reads standard input), "
        "or a database URL (postgresql://user@host/db?table=schema.table, "
        "sqlite:///file.db?table=t, duckdb:///file.duckdb?query=SELECT ...), or with "
        "--engine spark a URI Spark reads (hdfs://, s3a://, file://...); leave out when "
        "the rule file has a sources: section.",
        show_default=False,
    ),
]


def given_location(input_path: str | None) -> Location | None:
    """INPUT as a location (exit 2 for a malformed URL, before anything is opened)."""
    return parse_location(input_path) if input_path is not None else None


def one_input(source: Location | None, loaded: LoadedRules | None) -> None:
    """INPUT, or the rule file's sources: one of them names the data (exit 2 otherwise)."""
    has_sources = loaded is not None and bool(loaded.rules.sources)
    if (source is None) == has_sources:
        return
    if source is None:
        named = f"{loaded.path} has no sources: section" if loaded else "no --rules given"
        raise UsageError(
            f"give INPUT (a file or a database URL), or a rule file with sources: ({named})",
            "docs/sources.md describes the sources: section",
        )
    assert loaded is not None
    raise UsageError(
        f"give INPUT or a rule file with sources:, not both ({loaded.path} has sources:)",
        "its sources: name every input of a run with several sources; drop INPUT",
    )


def input_locations(source: Location | None, loaded: LoadedRules) -> list[Location]:
    """Where a command reads its data from: INPUT, or its sources' locations."""
    return [source] if source is not None else list(source_locations(loaded).values())


def input_files(source: Location | None, loaded: LoadedRules) -> list[Path]:
    """The local files a command reads its data from: INPUT's, or its sources' files."""
    if source is not None:
        return location_files(source)
    return [f for where in source_locations(loaded).values() for f in location_files(where)]


def spark_input(
    source: Location | None, engine: str | None, command: str, master: str | None = None
) -> None:
    """INPUT at a URI only Spark reads (hdfs://, s3a://, file://): exit 2 unless the command
    runs on the spark engine (`engine`: its name; None: a command without --engine), whose
    session (on --spark-master) is then started to read it."""
    if not isinstance(source, StorageUri):
        return
    if engine is None:
        raise UsageError(
            f"{source.shown}: a URI only Spark reads; `crmclean {command}` reads files and "
            "database URLs",
            "copy the table to a local file first",
        )
    if engine != "spark":
        raise UsageError(
            f"{source.shown}: a URI only Spark reads, and `crmclean {command}` runs on the "
            f"{engine} engine",
            "add --engine spark (docs/spark.md)",
        )
    start_spark(master)


def local_out(out: Path | None, command: str) -> None:
    """--out of a command that writes a local folder: a URI is exit 2 (only `run` publishes a
    folder to a URI), not a folder named `s3a:` in the working directory."""
    if out is not None and uri_as_path(out):
        raise UsageError(
            f"--out {out}: `crmclean {command}` writes a local folder",
            "give a local folder; `crmclean run --engine spark` publishes a run to a URI",
        )
