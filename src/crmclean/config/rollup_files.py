"""Where the movement tables of a rule file's `rollup:` section are: relative to the rule file
(or the file it extends) that names them, a SQLite or DuckDB file in a URL too."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from crmclean.config.loader import LoadedRules
from crmclean.errors import UsageError
from crmclean.io.database_url import SCHEMES, DatabaseUrl, looks_like_url, parse_database_url


def rollup_base(loaded: LoadedRules, name: str) -> Path:
    """The folder of the rule file that names the table's file."""
    where = loaded.located.where(("rollup", "tables", name, "file"))
    return Path(where[0]).parent if where else loaded.path.parent


def movement_location(file: str, base: Path) -> Path | DatabaseUrl:
    """A table's file (relative to `base`, the rule file's folder), or its database URL with a
    relative database file made relative to `base` as well. A URL crmclean does not read
    (http://, file://) raises UsageError."""
    if not looks_like_url(file):
        return base / file
    scheme = file.split(":", 1)[0].lower()
    if scheme not in SCHEMES:
        raise UsageError(
            f"crmclean reads no {scheme}: URL",
            "name a local file (relative to the rule file), or a sqlite:///, duckdb:/// or "
            "postgresql:// URL with ?table=",
        )
    where = parse_database_url(file)
    if where.file is not None and not where.file.is_absolute():
        where = replace(where, connect=str(base / where.file))
    return where


def rollup_paths(loaded: LoadedRules) -> dict[str, Path]:
    """Each movement table's local file, by table name (a database file for a SQLite or DuckDB
    URL; none for a server or a URL crmclean does not read)."""
    rollup = loaded.rules.rollup
    if rollup is None:
        return {}
    paths = {}
    for name, table in rollup.tables.items():
        try:
            where = movement_location(table.file, rollup_base(loaded, name))
        except UsageError:
            continue
        path = where.file if isinstance(where, DatabaseUrl) else where
        if path is not None:
            paths[name] = path
    return paths
