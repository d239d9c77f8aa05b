"""Where a run reads from and writes to, besides --out: INPUT or the rule file's sources,
`--previous` (a folder or a published URL) and `--publish` (the run's tables in a PostgreSQL
schema, crmclean.io.publish)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmclean.config.loader import LoadedRules
from crmclean.config.rule_setup import Prepared
from crmclean.config.source_reads import source_locations
from crmclean.core.matching import model_to_dict
from crmclean.core.pipeline import RunResult
from crmclean.errors import UsageError
from crmclean.io.database_url import PublishTarget
from crmclean.io.locations import Location, location_files, parse_previous
from crmclean.io.publish import publish


def previous_of(previous: str | None) -> Path | PublishTarget | None:
    """`--previous`: a run folder, or the URL a run was published to."""
    return parse_previous(previous) if previous is not None else None


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


def one_input(source: Location | None, loaded: LoadedRules) -> None:
    """INPUT, or the rule file's sources: one of them names the data (exit 2 otherwise)."""
    if (source is None) != (not loaded.rules.sources):
        return
    if source is None:
        raise UsageError("give INPUT: a file or a database URL")
    raise UsageError(
        f"give INPUT or a rule file with sources:, not both ({loaded.path} has sources:)",
        "its sources: name every input of a run with several sources; drop INPUT",
    )


def input_files(source: Location | None, loaded: LoadedRules) -> list[Path]:
    """The local files a run reads its data from: INPUT's, or its sources' files."""
    if source is not None:
        return location_files(source)
    return [f for where in source_locations(loaded).values() for f in location_files(where)]


def manifest_inputs(prepared: Prepared) -> list[dict[str, Any]]:
    """The manifest's inputs: what was read, per source when there are several."""
    if not prepared.sources:
        return [prepared.read.info.to_dict()]
    return [{"source": name, **info.to_dict()} for name, info in prepared.sources.items()]
