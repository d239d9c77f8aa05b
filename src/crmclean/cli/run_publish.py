"""`run --previous URL` and `run --publish URL`: the run's tables in a PostgreSQL schema
(crmclean.io.publish), and a previous run read back from there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmclean.config.loader import LoadedRules
from crmclean.core.matching import model_to_dict
from crmclean.core.pipeline import RunResult
from crmclean.io.database_url import PublishTarget, looks_like_url, parse_publish_url
from crmclean.io.publish import publish


def previous_of(previous: str | None) -> Path | PublishTarget | None:
    """`--previous`: a run folder, or the URL a run was published to."""
    if previous is None:
        return None
    return parse_publish_url(previous) if looks_like_url(previous) else Path(previous)


def folder_of(previous: Path | PublishTarget | None) -> Path | None:
    return previous if isinstance(previous, Path) else None


def publish_run(
    target: PublishTarget, result: RunResult, loaded: LoadedRules, manifest: dict[str, Any]
) -> None:
    """The run's tables into the database, with the manifest (as written) and the model."""
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
    publish(target, tables, loaded.scrub(manifest), model)
