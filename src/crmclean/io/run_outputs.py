"""Load the outputs folder of a run (`--out`) for the report: summaries as dicts, tables as scans.

Tables are lazy parquet scans whose schema has been read here, so a report of a 1M-row run only
ever collects aggregates and a few capped rows; the report never sees per-row data in full.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import polars as pl

from crmclean.core.masking import MaskKind, kind_for
from crmclean.errors import InputError
from crmclean.io.atomic_file import replace_file
from crmclean.io.run_folder import parquet_schema

# Files the report itself writes; never read back as inputs.
REPORT_FILES = frozenset({"report.json", "report.html"})
# Columns the report reads from each table (docs/architecture.md): checked when the folder is
# loaded, so a table from another tool or version fails with its name, not a polars traceback.
NEEDED_COLUMNS = {
    "violations": ("rule_id", "column", "record_id", "value", "severity"),
    "changes": ("record_id", "column", "step"),
    "pairs": ("record_id_l", "record_id_r", "match_weight"),
    "clusters": ("record_id", "cluster_id"),
    "clean": ("record_id",),
    "crosswalk": ("golden_id",),
    "lineage": ("column",),
}


@dataclass(frozen=True)
class RunOutputs:
    """What a run left in its outputs folder, keyed by file stem (`validate`, `pairs`, ...)."""

    folder: Path
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, pl.LazyFrame] = field(default_factory=dict)
    schemas: dict[str, pl.Schema] = field(default_factory=dict)
    # `pii: true` columns and how to mask each (crmclean.core.masking kinds); None: the run did
    # not say, so the report masks every value.
    pii: dict[str, MaskKind] | None = None

    @property
    def pii_columns(self) -> frozenset[str] | None:
        return None if self.pii is None else frozenset(self.pii)

    def summary(self, name: str) -> dict[str, Any] | None:
        return self.summaries.get(name)

    def table(self, name: str) -> pl.LazyFrame | None:
        return self.tables.get(name)

    def has(self, name: str) -> bool:
        return name in self.summaries or name in self.tables


# The personal columns of a rule file (None: not readable as one); the report passes the loader
# (crmclean.report.run_outputs), since reading a rule file is the config layer's job.
RuleFilePii = Callable[[Path], dict[str, MaskKind] | None]


def read_run_outputs(folder: Path, rule_file_pii: RuleFilePii) -> RunOutputs:
    """Read every `*.json` summary and scan every `*.parquet` table of an outputs folder."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of run outputs", "pass the --out folder of a run")
    summaries: dict[str, dict[str, Any]] = {}
    tables: dict[str, pl.LazyFrame] = {}
    schemas: dict[str, pl.Schema] = {}
    for path in sorted(folder.iterdir()):
        if path.name in REPORT_FILES or not path.is_file():
            continue
        if path.suffix == ".json":
            summaries[path.stem] = _read_json(path)
        elif path.suffix == ".parquet":
            try:
                schemas[path.stem] = parquet_schema(path)
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise InputError(f"{path}: not a readable parquet file ({exc})") from None
            missing = [c for c in NEEDED_COLUMNS.get(path.stem, ()) if c not in schemas[path.stem]]
            if missing:
                raise InputError(
                    f"{path}: lacks the column(s) {', '.join(missing)}",
                    "was it written by this version of crmclean?",
                )
            tables[path.stem] = pl.scan_parquet(path, glob=False)
    if not summaries and not tables:
        raise InputError(
            f"{folder}: holds no run outputs (no *.json or *.parquet)",
            "run `crmclean validate` or `crmclean run` with --out first",
        )
    return RunOutputs(folder, summaries, tables, schemas, _pii(summaries, folder, rule_file_pii))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object at the top level")
    return data


def _pii(
    summaries: dict[str, dict[str, Any]], folder: Path, rule_file_pii: RuleFilePii
) -> dict[str, MaskKind] | None:
    """The `pii: true` columns and their mask kinds: a summary's `pii` map; else its
    `pii_columns` list, typed by the run's rule file when it is still readable (else by name,
    as the console does for untyped columns); else the rule file alone."""
    for summary in summaries.values():
        listed = summary.get("pii")
        if isinstance(listed, dict):
            return {str(c): _kind(str(c), k) for c, k in listed.items()}
    from_rules = _rule_file_pii(summaries, folder, rule_file_pii)
    for summary in summaries.values():
        listed = summary.get("pii_columns")
        if isinstance(listed, list):
            kinds = from_rules or {}
            return {str(c): kinds.get(str(c)) or kind_for(str(c)) for c in listed}
    return from_rules


def _rule_file_pii(
    summaries: dict[str, dict[str, Any]], folder: Path, rule_file_pii: RuleFilePii
) -> dict[str, MaskKind] | None:
    for summary in summaries.values():
        rule_file = summary.get("rule_file")
        if isinstance(rule_file, str) and rule_file:
            for candidate in (Path(rule_file), folder / rule_file, folder.parent / rule_file):
                if candidate.is_file():
                    return rule_file_pii(candidate)
    return None


def _kind(column: str, kind: object) -> MaskKind:
    """A summary's mask kind, checked; a rule-file type is mapped as the console maps it."""
    if kind in get_args(MaskKind):
        return kind  # type: ignore[return-value]
    return kind_for(column, str(kind))


def write_report_file(path: Path, text: str) -> None:
    """Write one report file atomically: `crmclean report` rebuilds report.html inside an
    existing outputs folder, and a reader never sees half. The temp file beside it is created
    exclusively under a fresh name, so no link planted there is ever written through."""
    replace_file(path, text)
