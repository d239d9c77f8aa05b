"""What `run --publish` may replace: only tables crmclean published there, never the run's input.

A schema is crmclean's to replace table by table: `crmclean_run` marks a publish, and its manifest
lists the tables that run wrote (`published.tables`). Any other table or view of the same name
(a steward's `shop.golden`, a `review` table of the web shop) is not crmclean's: the run stops
(exit 3) before anything is written, naming those tables, the way `--out` refuses a folder
crmclean did not write. A table the run reads from is never replaced (exit 2).
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl

from crmclean.errors import InputError, UsageError
from crmclean.io.database_url import DatabaseUrl, PublishTarget

TABLES = ("golden", "crosswalk", "lineage", "review")
RUN_TABLE = "crmclean_run"  # one row: the manifest, model and history of the run published


def refuse_input_tables(target: PublishTarget, reads: Iterable[DatabaseUrl]) -> None:
    """UsageError (exit 2) when --publish would replace a table this run reads."""
    for where in reads:
        if where.kind != "postgresql":
            continue
        if where.query is not None:
            _refuse_query_reading(target, where)
            continue
        if where.table is None:
            continue
        parts = where.table.split(".")
        name, schema = parts[-1], parts[-2] if len(parts) > 1 else "public"
        database = parts[0] if len(parts) > 2 else _database(where.connect)
        target_database = _database(target.connect)
        same_database = database is None or target_database is None or database == target_database
        if same_database and schema == target.schema and name in (*TABLES, RUN_TABLE):
            raise UsageError(
                f"--publish {target}: would replace {schema}.{name}, which this run reads "
                f"({where})",
                "publish into another schema (?schema=name)",
            )


def _refuse_query_reading(target: PublishTarget, where: DatabaseUrl) -> None:
    """A query is not parsed: one that names a table the publish replaces (as `name`,
    `schema.name` or quoted) on the same database is refused, at the risk of refusing a query
    that only mentions the word (a column called `review`): the steward renames it or publishes
    elsewhere, and no input is ever overwritten. A bare name counts where the default search
    path would find it (the user's own schema, public)."""
    if not _may_be_same_database(where.connect, target.connect) or where.query is None:
        return
    text = _plain_sql(where.query)
    if 'u&"' in text or "query_to_xml" in text:
        raise UsageError(
            f"--publish {target}: this run's query names tables in a way crmclean cannot check "
            f'(U&"..." or query_to_xml) ({where})',
            "spell table names plainly in the query, or publish into another schema",
        )
    text = text.replace('"', "")
    for name in (*TABLES, RUN_TABLE):
        qualified = rf"\b{re.escape(target.schema.lower())}\s*\.\s*{name}\b"
        bare = rf"(?<![\w.]){name}\b" if target.schema in _search_path(where) else None
        if re.search(qualified, text) or (bare and re.search(bare, text)):
            raise UsageError(
                f"--publish {target}: would replace {target.schema}.{name}, which this run's "
                f"query may read ({where})",
                "publish into another schema (?schema=name), or leave that name out of the query",
            )


def foreign_tables(cursor: Any, schema: str) -> list[str]:
    """The tables (or views) in `schema` that a publish would replace and crmclean did not
    publish there, as `schema.name`."""
    names = (*TABLES, RUN_TABLE)
    listed = ", ".join(f"'{n}'" for n in names)
    cursor.execute(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace"
        f" WHERE s.nspname = '{schema}' AND c.relname IN ({listed})"
    )
    present = set(pl.DataFrame(cursor.fetch_arrow(), schema={"name": pl.String})["name"])
    ours = _published(cursor, schema) if RUN_TABLE in present else set()
    return [f"{schema}.{n}" for n in names if n in present and n not in ours]


def refuse_foreign(target: PublishTarget, foreign: Sequence[str]) -> None:
    if foreign:
        raise InputError(
            f"--publish {target}: {', '.join(foreign)} "
            f"{'was' if len(foreign) == 1 else 'were'} not published by crmclean; "
            "nothing was written",
            "publish into a schema of crmclean's own (?schema=name), or have the owner drop "
            "or rename those tables (docs/databases.md: handing a schema over)",
        )


def _published(cursor: Any, schema: str) -> set[str]:
    """The tables crmclean_run says its run published, and crmclean_run itself; none when
    crmclean_run is not crmclean's (no manifest, or one that lists no published tables)."""
    try:
        cursor.execute(
            "SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = "
            f"'{schema}' AND table_name = '{RUN_TABLE}' AND column_name = 'manifest'"
        )
        if pl.DataFrame(cursor.fetch_arrow())["n"][0] == 0:
            return set()
        cursor.execute(f'SELECT CAST(manifest AS text) AS manifest FROM "{schema}"."{RUN_TABLE}"')
        rows = pl.DataFrame(cursor.fetch_arrow())["manifest"].to_list()
        if len(rows) != 1 or rows[0] is None:
            return set()
        tables = json.loads(rows[0]).get("published", {}).get("tables", {})
    except (ValueError, AttributeError):
        return set()
    if not isinstance(tables, dict) or not tables:
        return set()
    return {RUN_TABLE, *(str(name) for name in tables)}


def _plain_sql(query: str) -> str:
    """The query in lower case without comments (`/* */`, nested too, and `--` lines) and with
    its whitespace collapsed, so that `public/**/.golden` reads as `public.golden`."""
    text = query.lower()
    while True:
        stripped = re.sub(r"/\*(?:(?!/\*|\*/).)*\*/", " ", text, flags=re.S)
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"--[^\n]*", " ", text)
    return re.sub(r"\s+", " ", text)


def _search_path(where: DatabaseUrl) -> tuple[str, ...]:
    """PostgreSQL's default search path: a schema named like the user, then public."""
    return (_user(where.connect), "public")


def _user(connect: str) -> str:
    """Who libpq connects as: the URL's user, else PGUSER, else the operating-system user."""
    parts = urlsplit(connect)
    given = parts.username or parse_qs(parts.query).get("user", [""])[0]
    return given or os.environ.get("PGUSER") or getpass.getuser()


def _database(connect: str) -> str | None:
    """The database libpq connects to: the URL's, else PGDATABASE, else one named like the
    user; None when a service file decides (not known here)."""
    parts = urlsplit(connect)
    query = parse_qs(parts.query)
    if "service" in query or (not parts.path.strip("/") and os.environ.get("PGSERVICE")):
        return None
    given = parts.path.lstrip("/") or query.get("dbname", [""])[0]
    return given or os.environ.get("PGDATABASE") or _user(connect)


def _may_be_same_database(one: str, other: str) -> bool:
    first, second = _database(one), _database(other)
    return first is None or second is None or first == second
