"""Where a run reads from and writes to, besides --out and INPUT (cli/data_input.py):
`--previous` (a folder or a published URL) and `--publish` (the run's tables in a PostgreSQL
schema, crmclean.io.publish)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmclean.config.loader import LoadedRules
from crmclean.config.rule_setup import Prepared
from crmclean.core.matching import model_to_dict
from crmclean.core.pipeline import RunResult
from crmclean.io.database_url import DatabaseUrl, PublishTarget
from crmclean.io.locations import Location, parse_previous
from crmclean.io.publish import check_publish, publish


def previous_of(previous: str | None) -> Path | PublishTarget | None:
    """`--previous`: a run folder, or the URL a run was published to."""
    return parse_previous(previous) if previous is not None else None


def folder_of(previous: Path | PublishTarget | None) -> Path | None:
    return previous if isinstance(previous, Path) else None


def check_publish_target(target: PublishTarget | None, reads: list[Location]) -> None:
    """--publish, before any work: it replaces only tables crmclean published, never an input."""
    if target is not None:
        check_publish(target, [where for where in reads if isinstance(where, DatabaseUrl)])


def publish_run(
    target: PublishTarget,
    result: RunResult,
    loaded: LoadedRules,
    manifest: dict[str, Any],
    history: dict[str, Any],
) -> None:
    """The run's tables into the database, with the manifest (as written), the model and
    history.json's document."""
    tables = {
        "golden": result.golden.golden,
        "crosswalk": result.golden.crosswalk,
        "lineage": result.golden.lineage,
        "review": result.review,
    }
    manifest["published"] = {
        "url": target.shown,
        "schema": target.schema,
        "tables": {name: frame.height for name, frame in tables.items()},
    }
    model = model_to_dict(result.dedupe.model) if result.dedupe is not None else None
    publish(target, tables, loaded.scrub(manifest), model, history)


def manifest_inputs(prepared: Prepared) -> list[dict[str, Any]]:
    """The manifest's inputs: what was read, per source when there are several."""
    if not prepared.sources:
        return [prepared.read.info.to_dict()]
    return [{"source": name, **info.to_dict()} for name, info in prepared.sources.items()]
