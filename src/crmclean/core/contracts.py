"""The data contracts between the steps: the record id every frame carries and the schemas of
the frames the steps hand on and the commands write (docs/architecture.md, "Data contracts")."""

from __future__ import annotations

import polars as pl

# Every loaded frame carries the stable record id as a String column, first.
RECORD_ID = "record_id"
# A pair of records, record_id_l < record_id_r.
PAIR_KEYS = ["record_id_l", "record_id_r"]

# checks: one row per violating value, row or dataset (violations.parquet)
VIOLATIONS_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "check": pl.String(),
    "column": pl.String(),
    "record_id": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
    "severity": pl.String(),
}

# standardisation: one row per changed or failed cell per step (changes.parquet)
CHANGES_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "column": pl.String(),
    "before": pl.String(),
    "after": pl.String(),
    "step": pl.String(),
    "error": pl.String(),
}
# standardisation: one row per column and step (derive included)
STATS_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.String(),
    "position": pl.Int32(),
    "step": pl.String(),
    "rows": pl.Int64(),
    "changed": pl.Int64(),
    "failed": pl.Int64(),
    "unique_inputs": pl.Int64(),
    "slow_inputs": pl.Int64(),
    "seconds": pl.Float64(),
}

# golden records: record_id -> golden_id (crosswalk.parquet)
CROSSWALK_SCHEMA = pl.Schema(
    {
        "record_id": pl.String(),
        "golden_id": pl.String(),
        "match_probability": pl.Float64(),
        "how": pl.String(),  # singleton | matched | steward
    }
)
# golden records: which record and strategy each golden cell came from (lineage.parquet)
LINEAGE_SCHEMA = pl.Schema(
    {
        "golden_id": pl.String(),
        "column": pl.String(),
        "record_id": pl.String(),
        "source_system": pl.String(),
        "strategy": pl.String(),
    }
)
# golden records: membership changes since the previous run (changes-since-previous.parquet)
GOLDEN_CHANGES_SCHEMA = pl.Schema(
    {
        "golden_id": pl.String(),
        "change": pl.String(),  # created | split | merged | changed | removed
        "related_golden_id": pl.String(),
        "records_before": pl.Int64(),
        "records_after": pl.Int64(),
        "columns_changed": pl.String(),
    }
)
# matching: pairs a clustering guard cut at merge level, for a steward (review.parquet)
REVIEW_SCHEMA = {
    "record_id_l": pl.String,
    "record_id_r": pl.String,
    "match_probability": pl.Float64,
    "reason": pl.String,
}
# steward decisions (the decisions file `crmclean review` writes): the first three are required
DECISION_COLUMNS = [*PAIR_KEYS, "decision", "decided_by", "decided_at", "note"]
REQUIRED_COLUMNS = DECISION_COLUMNS[:3]


# With several sources (`sources:`) every record id is `<source>:<its own id>`.
SOURCE_SEPARATOR = ":"


def source_of(record_id: pl.Expr) -> pl.Expr:
    """The source system of a record id made unique across sources (`crm` of `crm:4711`)."""
    return record_id.str.split_exact(SOURCE_SEPARATOR, 1).struct.field("field_0")
