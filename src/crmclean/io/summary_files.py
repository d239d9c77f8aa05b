"""The one reader and writer of the summaries in a run folder (crmclean.summaries): commands
write a typed summary with write_summary(); the report, `review` and `explain` get typed ones
back and a file of another schema version is an input error naming it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from crmclean.errors import InputError
from crmclean.io.regular_file import is_present, read_text
from crmclean.io.writers import write_json
from crmclean.summaries import (
    CleanSummary,
    DedupeSummary,
    RunManifest,
    SummaryError,
    TypedSummary,
    ValidateSummary,
)

S = TypeVar("S")


def write_summary(folder: Path, summary: TypedSummary) -> str:
    """Write `summary` as its file into `folder`; the file name, for the outputs list."""
    write_json(summary.to_dict(), folder / summary.file)
    return summary.file


def parse_summary(kind: Any, data: Mapping[str, Any], path: Path) -> Any:
    try:
        return kind.from_dict(data)
    except (SummaryError, TypeError) as exc:
        raise InputError(
            f"{path}: {exc}", "rebuild the folder with this version of crmclean"
        ) from None


def read_summary(folder: Path, kind: type[S]) -> S | None:
    """The typed summary `kind` in `folder`, or None when the folder has none."""
    path = folder / kind.file  # type: ignore[attr-defined]
    if not is_present(path, "summary"):  # a FIFO or device there is an error, never a hang
        return None
    try:
        data = json.loads(read_text(path, "summary"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None
    return parse_summary(kind, data, path)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Summaries:
    """The typed summaries of one run folder; a command that did not run leaves None."""

    validate: ValidateSummary | None = None
    clean: CleanSummary | None = None
    dedupe: DedupeSummary | None = None
    run: RunManifest | None = None


def typed_summaries(folder: Path, documents: Mapping[str, Mapping[str, Any]]) -> Summaries:
    """The summaries already read from `folder` (RunOutputs.summaries), typed."""
    found: dict[str, Any] = {}
    for name, kind in (
        ("validate", ValidateSummary),
        ("clean", CleanSummary),
        ("dedupe", DedupeSummary),
        ("run", RunManifest),
    ):
        document = documents.get(kind.file.removesuffix(".json"))
        if document is not None:
            found[name] = parse_summary(kind, document, folder / kind.file)
    return Summaries(**found)
