"""Where a table is: a file path, or a database URL (crmclean.io.database). Every command and the
Python API read their input through `read_location`, so a URL is accepted wherever a path is."""

from __future__ import annotations

from pathlib import Path

from crmclean.io.readers import ReadResult, read_table


def read_location(location: str | Path, *, id_column: str | None = None) -> ReadResult:
    """The table at `location`, as `read_table` reads a file."""
    return read_table(Path(location), id_column=id_column)
