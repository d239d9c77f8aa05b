"""The movement tables a rule file's `rollup:` section names (orders, payments, contacts): each
read as a table of text columns, relative to the rule file, if it is a regular data file."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from crmclean.io.named_files import FileKind, NamedFileProblem, resolve_named
from crmclean.io.readers import read_table

MOVEMENT_FILE = FileKind(
    "movement table",
    (".csv", ".tsv", ".txt", ".parquet", ".ndjson", ".jsonl", ".json", ".xlsx"),
    64 * 1024 * 1024 * 1024,
)


def read_movements(path: Path) -> pl.DataFrame | None:
    """The table at `path` with its 1-based row number as record_id; None if there is no such
    file (the rule file's mistake). A file of the wrong kind raises NamedFileProblem, an
    unreadable one InputError (exit 3)."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        resolve_named(path.parent, path.name, MOVEMENT_FILE)
    except NamedFileProblem as exc:
        if not path.is_symlink():
            raise
        # "link.csv is not a movement table (.csv ...)" puzzles: say where the link goes
        target = os.path.realpath(path)
        raise NamedFileProblem(
            f"{path.name} is a link to {target}: {exc.problem}", exc.hint, unreadable=exc.unreadable
        ) from None
    return read_table(path).frame
