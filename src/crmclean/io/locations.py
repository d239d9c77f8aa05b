"""Where a table is: a file path, or a database URL (crmclean.io.database_url). Every command and
the Python API read their input through here, so a URL is accepted wherever a path is."""

from __future__ import annotations

from pathlib import Path

from crmclean.errors import UsageError
from crmclean.io.database import read_database
from crmclean.io.database_url import (
    DatabaseUrl,
    PublishTarget,
    looks_like_url,
    parse_database_url,
    parse_publish_url,
)
from crmclean.io.readers import ReadResult, read_table
from crmclean.io.storage_uri import StorageUri, storage_uri

# a file, a database, or a URI only Spark reads (`--engine spark`: hdfs://, s3a://, file://)
Location = Path | DatabaseUrl | StorageUri


def parse_location(text: str | Path | DatabaseUrl | StorageUri) -> Location:
    """A Hadoop file system's URI, a database URL (exit 2 if it is malformed or holds a
    password), else a file path."""
    if isinstance(text, Path | DatabaseUrl | StorageUri):
        return text
    uri = storage_uri(text)
    if uri is not None:
        return uri
    return parse_database_url(text) if looks_like_url(text) else Path(text)


def read_location(
    location: str | Path | DatabaseUrl | StorageUri,
    *,
    id_column: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ReadResult:
    """The table at `location`, as `read_table` reads a file (`-`: standard input; a URI:
    read by the Spark session, crmclean.io.spark_files). A text file's encoding and delimiter
    mean nothing to a database: asked for one, it is exit 2."""
    where = parse_location(location)
    if isinstance(where, StorageUri):
        from crmclean.io.spark_files import read_spark_input

        return read_spark_input(where, id_column=id_column, encoding=encoding, delimiter=delimiter)
    if isinstance(where, DatabaseUrl):
        if encoding is not None or delimiter is not None:
            option = "--encoding" if encoding is not None else "--delimiter"
            raise UsageError(
                f"{option}: applies to a CSV file, not to a database ({where.shown})",
                f"leave out {option} when reading from a database URL",
            )
        return read_database(where, id_column=id_column)
    return read_table(where, id_column=id_column, encoding=encoding, delimiter=delimiter)


def shown_location(text: str) -> str:
    """A location as messages show it: a database URL without password or query text."""
    if not looks_like_url(text):
        return text
    try:
        return parse_database_url(text).shown
    except UsageError:
        return text.split(":", 1)[0] + ":"


def location_files(location: Location) -> list[Path]:
    """The local files a location reads (none for a server): an --out folder may not hold one."""
    if isinstance(location, DatabaseUrl):
        return [location.file] if location.file is not None else []
    if isinstance(location, StorageUri):
        return []  # Spark's to read; an --out URI is checked against it by name
    return [location]


def parse_previous(text: str | Path) -> Path | PublishTarget:
    """`--previous`: a run folder, or the PostgreSQL schema a run was published to."""
    if isinstance(text, str) and looks_like_url(text):
        return parse_publish_url(text)
    return Path(text)
