"""Read a finished `crmclean run` folder for the duplicate check at entry (`match`, `serve`).

Only a folder crmclean wrote, holding a complete and self-consistent run (the checks golden ids
rely on, crmclean.io.run_folder) with a matching model, is read; anything else is exit 3 with one
line. Of the cleaned records only the columns matching reads are loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.masking import redact_engine_message
from crmclean.core.matching import MatchingSpec, MatchModel, ModelMismatch, model_from_dict
from crmclean.core.matching.lookup import LookupTables, needed_columns
from crmclean.core.matching.threshold_choice import with_auto_merge
from crmclean.errors import InputError
from crmclean.io.match_tables import read_match_tables
from crmclean.io.output_owner import written_by
from crmclean.io.run_folder import (
    MANIFEST,
    MARKER,
    holds_run,
    input_columns,
    read_present_json,
    read_run_folder,
    require_complete_run,
)
from crmclean.io.summary_files import read_summary
from crmclean.summaries import DedupeSummary

_HINT = "pass the --out folder of a complete `crmclean run` whose rule file has a matching: section"


@dataclass(frozen=True)
class MatchRun:
    """What a lookup needs from a run folder."""

    folder: Path
    manifest: dict[str, Any]
    spec: MatchingSpec
    model: MatchModel
    records: pl.DataFrame  # record_id, golden_id and the columns matching reads
    tables: LookupTables | None  # the block-key index and term counts, None in older folders
    golden: pl.DataFrame  # golden.parquet as written
    input_columns: list[str]  # the columns of the run's input, as read
    rule_file: Path
    rule_file_sha256: str
    stamp: tuple[int, int, int]  # of manifest.json: a newer run changes it


def manifest_stamp(folder: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime_ns) of the folder's manifest.json, None when there is none: a run
    replacing the folder writes a new file."""
    try:
        info = os.stat(folder / MANIFEST)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def read_match_run(folder: Path) -> MatchRun:
    """The run in `folder`, ready to index; InputError (exit 3) naming what is wrong."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder", _HINT)
    if written_by(folder) is None:
        raise InputError(
            f"{folder}: is not a folder crmclean wrote (no {MARKER} marker naming a command, "
            f"no run {MANIFEST})",
            _HINT,
        )
    if not holds_run(folder):  # a `dedupe` or `clean` folder: nothing is broken, it is no run
        raise InputError(
            f"{folder}: holds no `crmclean run` (no manifest.json, crosswalk or golden records; "
            "a `dedupe` folder has no golden ids to answer with)",
            _HINT,
        )
    stamp = manifest_stamp(folder)
    require_complete_run(folder)  # every output its manifest lists, or exit 3
    # complete and agreeing with itself, or exit 3 (lineage and review are not read here)
    run = read_run_folder(folder, other_tables=False)
    summary = read_summary(folder, DedupeSummary)
    if summary is None:
        raise InputError(f"{folder}: holds a run without matching (no dedupe.json)", _HINT)
    try:
        spec = MatchingSpec.model_validate(summary.matching)
    except ValueError as exc:  # pydantic's ValidationError
        reason = (str(exc).splitlines() or ["invalid"])[0]
        raise InputError(
            f"{folder / DedupeSummary.file}: matching is not readable ({reason})", _HINT
        ) from None
    try:
        model = model_from_dict(read_present_json(folder / "model.json", _HINT), spec)
    except ModelMismatch as exc:
        raise InputError(f"{folder / 'model.json'}: {exc}", _HINT) from None
    # a precision target's auto_merge as the run chose it: lookups decide as the run merged
    spec = with_auto_merge(spec, summary.thresholds.get("auto_merge"))
    records, row_of = _records(folder, run.crosswalk, spec)
    written = read_match_tables(folder)
    tables = None if written is None else LookupTables(*written, row_of)
    columns = input_columns(run.manifest)
    rule_file, digest = run.manifest.get("rule_file"), run.manifest.get("rule_file_sha256")
    if not isinstance(columns, list) or not isinstance(rule_file, str) or not digest:
        raise InputError(
            f"{folder / MANIFEST}: lacks input_columns (or inputs[0].columns) or rule_file", _HINT
        )
    if not Path(rule_file).is_file():
        raise InputError(
            f"{rule_file}: the rule file of the run in {folder} is gone",
            "restore it: new records are cleaned by the run's own rule file",
        )
    return MatchRun(
        folder,
        run.manifest,
        spec,
        model,
        records,
        tables,
        run.golden,
        [str(c) for c in columns],
        Path(rule_file),
        str(digest),
        stamp or (0, 0, 0),
    )


def _records(
    folder: Path, crosswalk: pl.DataFrame, spec: MatchingSpec
) -> tuple[pl.DataFrame, np.ndarray[Any, np.dtype[np.int64]]]:
    """The matched records (quarantined ones have no golden record) with their golden id, in
    clean.parquet's order; and per row of clean.parquet its row among them (-1: not matched)."""
    path = folder / "clean.parquet"
    if not path.is_file():
        raise InputError(f"{path}: missing", _HINT)
    try:
        cleaned = pl.read_parquet(path, columns=[RECORD_ID, *needed_columns(spec)], glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        reason = redact_engine_message((str(exc).splitlines() or [type(exc).__name__])[0])
        raise InputError(f"{path}: not readable as the run's cleaned records ({reason})") from None
    joined = cleaned.with_columns(pl.col(RECORD_ID).cast(pl.String)).join(
        crosswalk, on=RECORD_ID, how="left", maintain_order="left"
    )
    if joined.height != cleaned.height:
        raise InputError(f"{folder / 'crosswalk.parquet'}: names a record more than once", _HINT)
    matched = joined.get_column("golden_id").is_not_null().to_numpy()
    records = joined.filter(pl.Series(matched))
    if records.height != crosswalk.height:
        raise InputError(
            f"{path}: holds {records.height:,} of the {crosswalk.height:,} records of "
            "crosswalk.parquet",
            _HINT,
        )
    row_of = np.where(matched, np.cumsum(matched) - 1, -1).astype(np.int64)
    return records, row_of
