"""Where the movement tables of a rule file's `rollup:` section are: relative to the rule file
(or the file it extends) that names them."""

from __future__ import annotations

from pathlib import Path

from crmclean.config.loader import LoadedRules


def rollup_paths(loaded: LoadedRules) -> dict[str, Path]:
    """Each movement table's file, by table name."""
    rollup = loaded.rules.rollup
    if rollup is None:
        return {}
    paths = {}
    for name, table in rollup.tables.items():
        where = loaded.located.where(("rollup", "tables", name, "file"))
        paths[name] = (Path(where[0]).parent if where else loaded.path.parent) / table.file
    return paths
