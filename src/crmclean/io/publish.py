"""`run --publish URL`: golden records, crosswalk, lineage and review queue as PostgreSQL tables,
swapped in atomically, and read back as the previous run (`--previous URL`).

Everything happens in one transaction: each table is loaded (COPY, through ADBC) under a staged
name, then the old tables are dropped and the staged ones renamed, then one commit. Readers see
yesterday's tables or today's, never a mix; a failure anywhere rolls everything back and
yesterday's tables stay (exit 3). `crmclean_run` holds the run's manifest, match model and history
(history.json: the nights the report's trend charts), so a next run can take its golden ids,
model and trend from the database as from a run folder.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.errors import InputError
from crmclean.io.database import connect_error, open_driver, reason_of
from crmclean.io.database_url import DatabaseUrl, PublishTarget
from crmclean.io.publish_guard import (
    RUN_TABLE,
    TABLES,
    foreign_tables,
    refuse_foreign,
    refuse_input_tables,
)

__all__ = ["RUN_TABLE", "TABLES", "PublishedRun", "check_publish", "publish", "read_published"]


@dataclass(frozen=True)
class PublishedRun:
    """What `--previous URL` reads back from the published tables."""

    manifest: Any  # the run's manifest.json document
    crosswalk: pl.DataFrame  # record_id, golden_id
    golden: pl.DataFrame
    model: Any  # the match model document, or None
    history: str | None  # history.json as written; None when published before it was kept


def check_publish(target: PublishTarget, reads: Iterable[DatabaseUrl]) -> None:
    """Before any work: exit 2 if the publish would replace a table the run reads, exit 3 if it
    would replace tables crmclean did not publish (crmclean.io.publish_guard) or the server
    cannot be reached."""
    refuse_input_tables(target, reads)
    connection = _connect(target)
    try:
        with connection.cursor() as cursor:
            foreign = foreign_tables(cursor, target.schema)
    except Exception as exc:
        raise InputError(
            f"{target}: cannot look at the tables there: {reason_of(exc)}",
            "check this user's rights on the schema",
        ) from None
    finally:
        connection.close()
    refuse_foreign(target, foreign)


def publish(
    target: PublishTarget,
    tables: Mapping[str, pl.DataFrame],
    manifest: Mapping[str, Any],
    model: Mapping[str, Any] | None,
    history: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Swap the tables in; their row counts. InputError (exit 3) with nothing changed if not."""
    run = pl.DataFrame(
        {
            "manifest": [json.dumps(manifest, sort_keys=True, default=str)],
            "model": [json.dumps(model, sort_keys=True) if model is not None else None],
            "history": [json.dumps(history, sort_keys=True) if history is not None else None],
        },
        schema={"manifest": pl.String, "model": pl.String, "history": pl.String},
    )
    everything = {**tables, RUN_TABLE: run}
    token = secrets.token_hex(4)
    connection = _connect(target)
    try:
        with connection.cursor() as cursor:
            _ensure_schema(cursor, target.schema)
            # again inside the transaction: a table made since the run began is not replaced
            refuse_foreign(target, foreign_tables(cursor, target.schema))
            for name, frame in everything.items():
                cursor.adbc_ingest(
                    f"{name}__staged_{token}",
                    _plain(frame),
                    mode="create",
                    db_schema_name=target.schema,
                )
            for name in everything:
                cursor.execute(f"DROP TABLE IF EXISTS {_name(target.schema, name)}")
                staged = _name(target.schema, f"{name}__staged_{token}")
                cursor.execute(f'ALTER TABLE {staged} RENAME TO "{name}"')
        connection.commit()
    except InputError:
        connection.rollback()
        raise
    except Exception as exc:
        connection.rollback()
        raise InputError(
            f"{target}: publishing failed, the published tables are as they were: {reason_of(exc)}",
            "check this user's rights on the schema (create, and own the tables it replaces)",
        ) from None
    finally:
        connection.close()
    return {name: frame.height for name, frame in tables.items()}


def read_published(target: PublishTarget) -> PublishedRun:
    """The run published at `target`; InputError (exit 3) when nothing was published there."""
    connection = _connect(target)
    try:
        with connection.cursor() as cursor:
            # every column: a run published before history was kept has none
            cursor.execute(f"SELECT * FROM {_name(target.schema, RUN_TABLE)}")
            run = pl.DataFrame(cursor.fetch_arrow())
            cursor.execute(
                f'SELECT "{RECORD_ID}", golden_id FROM {_name(target.schema, "crosswalk")}'
            )
            crosswalk = pl.DataFrame(cursor.fetch_arrow())
            cursor.execute(f"SELECT * FROM {_name(target.schema, 'golden')}")
            golden = pl.DataFrame(cursor.fetch_arrow())
    except Exception as exc:
        raise InputError(
            f"{target}: no published run to read: {reason_of(exc)}",
            "publish a run there first (crmclean run --publish URL), or drop --previous",
        ) from None
    finally:
        connection.close()
    if run.height != 1:
        raise InputError(f"{target}: {RUN_TABLE} must hold one row, it holds {run.height}")
    model = run["model"][0]
    history = run["history"][0] if "history" in run.columns else None
    return PublishedRun(
        json.loads(run["manifest"][0]),
        crosswalk,
        golden,
        json.loads(model) if model is not None else None,
        history,
    )


def _connect(target: PublishTarget) -> Any:
    driver = open_driver("postgresql", target.shown)
    try:
        return driver.connect(target.connect)
    except Exception as exc:
        raise connect_error(target.shown, target.server, exc) from None


def _ensure_schema(cursor: Any, schema: str) -> None:
    # CREATE SCHEMA IF NOT EXISTS needs the right to create one even when it is there
    cursor.execute(f"SELECT count(*) AS n FROM pg_namespace WHERE nspname = '{schema}'")
    if pl.DataFrame(cursor.fetch_arrow())["n"][0] == 0:
        cursor.execute(f'CREATE SCHEMA "{schema}"')


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns PostgreSQL has a type for: all-null columns as text."""
    return frame.with_columns(pl.col(pl.Null).cast(pl.String))


def _name(schema: str, table: str) -> str:
    return f'"{schema}"."{table}"'  # both checked as plain identifiers (database_url)
