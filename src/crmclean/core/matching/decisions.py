"""Steward decisions: must-link and cannot-link pairs that clustering always honours.

The decisions file is an append-only CSV log (UTF-8, header row, comma separated):

    record_id_l,record_id_r,decision,decided_by,decided_at,note
    C-0001,C-0107,match,anna,2026-11-23T14:02:11Z,same person after marriage
    C-0002,C-0090,no_match,anna,2026-11-23T14:03:40Z,twins

Required: `record_id_l`, `record_id_r` (record ids as in the data; either order),
`decision` in {match, no_match}. Optional: `decided_by`, `decided_at` (ISO 8601 UTC), `note`.
A later row about the same pair overrides an earlier one, so a tool (`crmclean review`) only
ever appends. `decision_row()` builds one row for such a tool.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from crmclean.core.contracts import REQUIRED_COLUMNS

DECISIONS = ("match", "no_match")


def decision_row(
    record_id_a: str,
    record_id_b: str,
    decision: str,
    *,
    decided_by: str = "",
    note: str = "",
    decided_at: datetime | None = None,
) -> dict[str, str]:
    """One row for the decisions file, ids ordered, time in UTC (for tools that append)."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    low, high = sorted((str(record_id_a), str(record_id_b)))
    when = (decided_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "record_id_l": low,
        "record_id_r": high,
        "decision": decision,
        "decided_by": decided_by,
        "decided_at": when,
        "note": note,
    }


def problems(frame: pl.DataFrame) -> list[str]:
    """What is wrong with a decisions frame, one message per problem (empty when fine)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        return [f"decisions file lacks column(s): {', '.join(missing)}"]
    out: list[str] = []
    decision = frame.get_column("decision").cast(pl.String).str.strip_chars().str.to_lowercase()
    bad = frame.with_row_index("_line", offset=2).filter(
        ~decision.is_in(DECISIONS) | decision.is_null()
    )
    if bad.height:
        lines = ", ".join(str(v) for v in bad.get_column("_line").head(5).to_list())
        out.append(f"decision must be match or no_match (line(s) {lines})")
    same = frame.with_row_index("_line", offset=2).filter(
        pl.col("record_id_l").cast(pl.String) == pl.col("record_id_r").cast(pl.String)
    )
    if same.height:
        lines = ", ".join(str(v) for v in same.get_column("_line").head(5).to_list())
        out.append(f"{same.height} decision(s) pair a record with itself (line(s) {lines})")
    return out


def normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """`record_id_l < record_id_r`, `decision`; the last row about each pair wins."""
    ids = [pl.col("record_id_l").cast(pl.String), pl.col("record_id_r").cast(pl.String)]
    return (
        frame.with_row_index("_order")
        .select(
            "_order",
            pl.min_horizontal(ids).alias("record_id_l"),
            pl.max_horizontal(ids).alias("record_id_r"),
            pl.col("decision").cast(pl.String).str.strip_chars().str.to_lowercase(),
        )
        .filter(pl.col("record_id_l") != pl.col("record_id_r"))
        .sort("_order")
        .unique(subset=["record_id_l", "record_id_r"], keep="last", maintain_order=True)
        .sort("record_id_l", "record_id_r")
        .drop("_order")
    )


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=dict.fromkeys(REQUIRED_COLUMNS, pl.String))
