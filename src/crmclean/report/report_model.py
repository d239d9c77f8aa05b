"""The report model: every figure the HTML report shows, as plain data.

report.json is this model serialised and report.html is rendered from it alone, so what CI reads
and what a person sees cannot drift apart. A section whose inputs are absent is None and is left
out of both. Built from the outputs folder by `report.figures.build_model`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MODEL_VERSION = 1


@dataclass(frozen=True)
class Summary:
    command: str  # "validate", "run", ... the command that wrote the folder
    input: str | None
    rows: int | None
    quarantined: int | None  # rows set aside by `run --quarantine` (not matched)
    rule_file: str | None
    version: str
    started_at: str | None
    finished_at: str | None
    exit_status: int | None
    exit_meaning: str | None
    score: float | None
    score_method: str
    outputs: list[str]  # the files the report was built from


@dataclass(frozen=True)
class RecordValue:
    """One offending record of a rule, for the drill-down: its id and its (masked) value."""

    record_id: str
    value: str | None


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    check: str | None
    column: str | None
    severity: str
    status: str  # pass | warn | fail
    checked: int | None  # rows (or values, or 1 for a dataset-wide rule) the rule looked at
    violations: int
    share: float  # violations / checked
    threshold: float | None
    description: str | None
    examples: list[str]  # a few violating values, masked unless --show-values
    records: list[RecordValue] = field(default_factory=list)  # the first offending records


@dataclass(frozen=True)
class ColumnProfile:
    column: str
    pii: bool
    completeness: float | None  # share of non-null values
    validity: float | None  # share of rows no rule flagged in this column
    violations: int


@dataclass(frozen=True)
class StepChanges:
    step: str
    changed: int  # values changed without error
    errors: int  # values the step could not standardise
    columns: list[str]
    cosmetic: bool = False  # changes the form only (date formats, spaces): listed after the rest


@dataclass(frozen=True)
class Standardisation:
    values_changed: int
    records_changed: int
    errors: int
    steps: list[StepChanges]


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class Histogram:
    edges: list[float]
    counts: list[int]


@dataclass(frozen=True)
class Threshold:
    name: str
    match_weight: float
    match_probability: float


@dataclass(frozen=True)
class ClusterView:
    cluster_id: str
    size: int
    record_ids: list[str]  # members shown (capped)
    columns: list[str]
    values: list[list[str | None]]  # one row per column, one value per member shown (masked)


@dataclass(frozen=True)
class Contribution:
    comparison: str
    level: int | None  # gamma: comparison level index, -1 = null level
    match_weight: float  # the level's log2 Bayes factor
    label: str | None = None  # the level's name in model.json ("exact", "jaro_winkler >= 0.9")
    agreement: str | None = None  # same / similar / different / missing, as `review` says it


@dataclass(frozen=True)
class ExamplePair:
    why: str  # "strongest match", "closest to the match threshold", ...
    record_id_l: str
    record_id_r: str
    match_weight: float
    match_probability: float | None
    contributions: list[Contribution]


@dataclass(frozen=True)
class Matching:
    candidate_pairs: int | None  # pairs the blocking rules produced and compared
    pairs: int  # pairs written to pairs.parquet (at or above the review threshold)
    pairs_per_blocking_rule: list[Count]
    weight_histogram: Histogram
    thresholds: list[Threshold]
    records: int | None
    clusters: int | None
    records_in_duplicate_clusters: int | None
    cluster_sizes: list[Count]  # label = cluster size, count = clusters of that size
    largest_clusters: list[ClusterView]
    example_pairs: list[ExamplePair]


@dataclass(frozen=True)
class SourceShare:
    column: str
    sources: list[Count]  # how many golden values each source system supplied


@dataclass(frozen=True)
class Golden:
    golden_records: int
    source_records: int | None
    merged_records: int | None  # golden records built from more than one source record
    survivorship_sources: list[SourceShare]
    strategies: list[Count]  # label = "column: strategy"
    changes_since_previous: list[Count] | None


@dataclass(frozen=True)
class SourceFigures:
    """One source system's part of the run: stewards own sources."""

    source: str
    records: int
    violations: int  # violation rows of its records
    records_flagged: int  # its records with at least one violation
    completeness: float | None  # share of non-empty values over the input columns
    in_duplicates: int | None  # its records in a golden record that merges several
    golden_values_won: int | None  # golden values survivorship took from it


@dataclass(frozen=True)
class Night:
    """One run of the history carried by `run --previous` (history.json)."""

    night: str  # the date it finished
    score: float | None
    violations: int
    golden_records: int
    merges: int
    splits: int
    review: int
    violations_per_rule: dict[str, int]


@dataclass(frozen=True)
class Precision:
    labelled: int
    precision: float
    low: float  # 95% Wilson interval
    high: float


@dataclass(frozen=True)
class Review:
    pairs: int
    top_pairs: list[ExamplePair] = field(default_factory=list)  # most uncertain first
    precision: Precision | None = None  # of the automatic merges, from a steward's labels
    folder: str | None = None  # the run folder, for the commands the report suggests


@dataclass(frozen=True)
class KeyAccount:
    golden_id: str
    value: float
    records: int | None  # source records merged into it
    review_pairs: int  # pairs involving it still waiting for a steward


@dataclass(frozen=True)
class CustomerValue:
    measure: str  # the measure that stands for value (manifest movements.value_measure)
    as_of: str | None
    golden_records: int
    with_value: int  # golden records with a value above 0
    total: float
    bands: list[Count]  # golden records per value band
    key_accounts: int | None
    key_account_share: float | None  # share of the total value the key accounts hold
    key_accounts_merged: int | None  # key accounts built from several source records
    key_accounts_in_review: int | None  # key accounts with pairs waiting in the review queue
    top_key_accounts: list[KeyAccount]
    movements: int  # movement rows read
    movements_matched: int
    unmatched: list[Count]  # movement rows on no golden record, by reason


@dataclass(frozen=True)
class ReportModel:
    summary: Summary
    rules: list[RuleResult] | None = None
    columns: list[ColumnProfile] | None = None
    standardisation: Standardisation | None = None
    matching: Matching | None = None
    golden: Golden | None = None
    review: Review | None = None
    by_source: list[SourceFigures] | None = None
    trend: list[Night] | None = None
    value: CustomerValue | None = None
    values_shown: bool = False
    model_version: int = MODEL_VERSION
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
