"""The `values_from` files a rule file names: each read as a table, relative to the rule file,
if it is a regular .csv/.parquet of bounded size (never /etc/passwd or /dev/zero)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean.io.named_files import REFERENCE_FILE, resolve_named
from crmclean.io.readers import read_table


def read_reference(path: Path) -> pl.DataFrame | None:
    """The table at `path`; None if there is no such file (the rule file's mistake). A file of
    the wrong kind raises NamedFileProblem, an unreadable one InputError (exit 3)."""
    if not path.exists():
        return None
    resolve_named(path.parent, path.name, REFERENCE_FILE)
    return read_table(path).frame
