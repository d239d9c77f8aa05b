"""The summaries commands write into their --out folders, typed and versioned.

One dataclass per command (validate.json, clean.json, dedupe.json, manifest.json of `run`), each
with `schema_version`, `to_dict()` and `from_dict()`: writers build the dataclass, readers (the
report, `review`, `explain`) get the dataclass back and never guess key names. Within a schema
version fields are only added: `from_dict` ignores keys it does not know and refuses a document
of another version or command. docs/json-report.md describes every field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

SCHEMA_VERSION = "1"

T = TypeVar("T")


class SummaryError(ValueError):
    """A summary file of another schema version or command, or missing a field."""


def _build(cls: type[T], data: Mapping[str, Any], **nested: Any) -> T:
    """The dataclass from the keys it declares; a field without a default must be present."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in nested:
            values[f.name] = nested[f.name]
        elif f.name in data:
            values[f.name] = data[f.name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SummaryError(f"lacks the field {f.name!r}")
    return cls(**values)


def _check(data: Mapping[str, Any], command: str) -> None:
    if not isinstance(data, Mapping):
        raise SummaryError("is not a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        found = "no schema_version" if version is None else f"schema_version {version!r}"
        raise SummaryError(f"has {found}; this crmclean reads {SCHEMA_VERSION!r}")
    if data.get("command") != command:
        raise SummaryError(f"is the summary of {data.get('command')!r}, not of {command!r}")


class TypedSummary:
    command: ClassVar[str]
    file: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {"schema_version": SCHEMA_VERSION, "command": self.command, **body}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The summary of a document of this schema version and command (nested parts: the
        subclass builds them and passes them on)."""
        _check(data, cls.command)
        return _build(cls, data)


@dataclass(frozen=True)
class Sample:
    record_id: str | None
    value: str | None  # masked for pii columns unless --show-values
    message: str | None


@dataclass(frozen=True)
class RuleOutcome:
    rule_id: str
    check: str
    column: str | None
    severity: str
    checked: int
    violations: int
    share: float
    threshold: float
    status: str  # pass | warn | fail
    description: str | None = None
    samples: list[Sample] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleOutcome:
        samples = [_build(Sample, s) for s in data.get("samples") or []]
        return _build(cls, data, samples=samples)


@dataclass(frozen=True)
class ValidateTotals:
    rows: int
    rules: int
    passed: int
    warned: int
    failed: int
    violations: int
    records_with_violations: int
    status: str
    fail_on: str
    exit_code: int


@dataclass(frozen=True)
class ValidateSummary(TypedSummary):
    """validate.json, written alike by `validate --out` and `run`."""

    command: ClassVar[str] = "validate"
    file: ClassVar[str] = "validate.json"

    crmclean_version: str
    started_at: str
    finished_at: str
    input: dict[str, Any]  # ReadInfo.to_dict()
    rule_file: str
    rule_files: list[str]
    rule_file_sha256: str
    values_masked: bool
    pii: dict[str, str]  # column -> mask kind
    results: list[RuleOutcome]
    summary: ValidateTotals
    score: float
    score_method: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidateSummary:
        _check(data, cls.command)
        results = [RuleOutcome.from_dict(r) for r in data.get("results") or []]
        totals = _build(ValidateTotals, data.get("summary") or {})
        return _build(cls, data, results=results, summary=totals)


@dataclass(frozen=True)
class CleanSummary(TypedSummary):
    """clean.json of `clean --out`."""

    command: ClassVar[str] = "clean"
    file: ClassVar[str] = "clean.json"

    input: dict[str, Any]
    rule_file: str
    rules_sha256: str
    started_at: str
    finished_at: str
    dry_run: bool
    rows: int
    columns: list[str]
    changed_cells: int
    changes: int
    failures: int
    per_column: dict[str, dict[str, int]]
    steps: list[dict[str, Any]]
    slow_parsers: list[dict[str, Any]]


@dataclass(frozen=True)
class DedupeSummary(TypedSummary):
    """dedupe.json, written alike by `dedupe --out` and `run`."""

    command: ClassVar[str] = "dedupe"
    file: ClassVar[str] = "dedupe.json"

    rule_file: str
    rules_digest: str
    thresholds: dict[str, float]  # review, auto_merge (match probabilities)
    prior: float
    fingerprint: str
    pii: dict[str, str]
    matching: dict[str, Any]  # the matching section used, as JSON
    blocking: list[dict[str, Any]]
    stats: dict[str, Any]
    warnings: list[str]


@dataclass(frozen=True)
class RunManifest(TypedSummary):
    """manifest.json of `run`: what was read, what came out, and the exit status."""

    command: ClassVar[str] = "run"
    file: ClassVar[str] = "manifest.json"

    crmclean_version: str
    started_at: str
    finished_at: str
    rule_file: str
    rule_files: list[str]
    rule_file_sha256: str
    inputs: list[dict[str, Any]]
    previous: str | None
    seed: int | None
    rows: dict[str, int]
    rows_add_up: bool
    changes_since_previous: dict[str, int]
    golden_ids: dict[str, Any]
    thresholds: dict[str, float]
    pii_columns: list[str]
    exit_code: int
    exit_status: str
    decisions_file: str | None = None
    quarantine_enabled: bool = False
    steps: dict[str, float] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    source_column: str | None = None  # dataset.source_column: the report's "by source system"
    # the columns of the table the run took (a `sources:` run: the combined one), for `match`
    input_columns: list[str] = field(default_factory=list)
    # the rollup (docs/value.md): as_of, per table rows == matched + unmatched, key accounts
    movements: dict[str, Any] = field(default_factory=dict)
    # `full` or `incremental` (docs/nightly.md); what was new, changed, deleted and touched, or
    # why an --incremental run fell back to a full one
    run_mode: str = "full"
    incremental: dict[str, Any] = field(default_factory=dict)
    # what the next --incremental run must know of this one: hashes' polars version, pair totals
    incremental_state: dict[str, Any] = field(default_factory=dict)


SUMMARIES: dict[str, Any] = {
    kind.file.removesuffix(".json"): kind
    for kind in (ValidateSummary, CleanSummary, DedupeSummary, RunManifest)
}
