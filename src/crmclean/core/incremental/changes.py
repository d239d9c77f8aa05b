"""Which records are new, changed or deleted since the previous run: by record id and a content
hash of every column the run reads (golden records carry every input column, so all of them)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmclean.core.contracts import RECORD_ID

HASH_SCHEMA = pl.Schema({RECORD_ID: pl.String, "content_hash": pl.UInt64})
# polars' row hash is stable for one polars version: the state names the version it was made by
HASH_SEED = 20261207


def content_hashes(frame: pl.DataFrame) -> pl.DataFrame:
    """record_id and one 64-bit hash of the record's values, sorted by record_id."""
    values = [c for c in frame.columns if c != RECORD_ID]
    digest = (pl.struct(values).hash(seed=HASH_SEED) if values else pl.lit(0, pl.UInt64)).alias(
        "content_hash"
    )
    return frame.select(pl.col(RECORD_ID).cast(pl.String), digest).sort(RECORD_ID).cast(HASH_SCHEMA)


@dataclass(frozen=True)
class RecordChanges:
    """Record ids by what happened to them since the previous run (each a sorted Series)."""

    new: pl.Series
    changed: pl.Series
    deleted: pl.Series
    unchanged: int

    @property
    def delta(self) -> pl.Series:
        """Records to clean, validate and match again: new and changed."""
        return pl.concat([self.new, self.changed]).sort()

    @property
    def gone(self) -> pl.Series:
        """Records whose previous version no longer holds: changed and deleted."""
        return pl.concat([self.changed, self.deleted]).sort()

    def counts(self) -> dict[str, int]:
        return {
            "new": self.new.len(),
            "changed": self.changed.len(),
            "deleted": self.deleted.len(),
            "unchanged": self.unchanged,
        }


def record_changes(today: pl.DataFrame, previous: pl.DataFrame) -> RecordChanges:
    """Compare today's content hashes with the previous run's (both HASH_SCHEMA frames)."""
    joined = today.join(previous, on=RECORD_ID, how="full", suffix="_prev", coalesce=True)
    now, before = pl.col("content_hash"), pl.col("content_hash_prev")

    def ids(condition: pl.Expr) -> pl.Series:
        return joined.filter(condition).get_column(RECORD_ID).sort()

    return RecordChanges(
        new=ids(before.is_null()),
        changed=ids(now.is_not_null() & before.is_not_null() & (now != before)),
        deleted=ids(now.is_null()),
        unchanged=int(joined.select((now == before).sum()).item() or 0),
    )
