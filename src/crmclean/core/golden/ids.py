"""Stable golden ids across nightly runs, and what changed since the previous run.

A previous golden record keeps its id on the cluster holding most of its records (its heir).
When several previous records share an heir they merged: the oldest id survives. Every other
cluster gets a new id above the high-water mark, so ids are never reused, even after removal.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmclean.core.contracts import GOLDEN_CHANGES_SCHEMA, RECORD_ID
from crmclean.errors import OutputError

ID_PREFIX = "G"
ID_DIGITS = 10
MAX_SERIAL = 10**ID_DIGITS - 1


@dataclass(frozen=True)
class IdState:
    """What must survive between runs so ids are never reused (kept in manifest.json)."""

    high_water_mark: int = 0
    prefix: str = ID_PREFIX

    def to_dict(self) -> dict[str, object]:
        return {"high_water_mark": self.high_water_mark, "prefix": self.prefix}

    @classmethod
    def from_dict(cls, data: object) -> IdState:
        if not isinstance(data, dict):
            return cls()
        mark = data.get("high_water_mark", 0)
        prefix = data.get("prefix", ID_PREFIX)
        return cls(int(mark) if isinstance(mark, int) else 0, str(prefix))

    @classmethod
    def parse(cls, data: object) -> IdState | str:
        """The state a previous run's manifest records, or what is wrong with it."""
        if not isinstance(data, dict):
            return "manifest.json has no golden_ids section"
        mark, prefix = data.get("high_water_mark"), data.get("prefix")
        if isinstance(mark, bool) or not isinstance(mark, int):
            return f"golden_ids.high_water_mark is {mark!r}, not a whole number"
        if not 0 <= mark <= MAX_SERIAL:
            return f"golden_ids.high_water_mark {mark} is outside 0..{MAX_SERIAL}"
        if prefix != ID_PREFIX:
            return f"golden_ids.prefix is {prefix!r}; crmclean issues {ID_PREFIX!r} ids"
        return cls(mark, prefix)


@dataclass(frozen=True)
class IdAssignment:
    members: pl.DataFrame  # record_id, cluster_id, golden_id
    changes: pl.DataFrame  # GOLDEN_CHANGES_SCHEMA, membership changes only (see describe_changes)
    state: IdState
    sizes: pl.DataFrame  # golden_id, records_before, records_after: every id, old and new


EVENT_COLUMNS = ["golden_id", "change", "related_golden_id"]


def _serial(ids: pl.Expr, prefix: str) -> pl.Expr:
    return ids.str.strip_prefix(prefix).cast(pl.Int64, strict=False)


def _format(serials: pl.Expr, prefix: str) -> pl.Expr:
    return pl.lit(prefix) + serials.cast(pl.String).str.zfill(ID_DIGITS)


def assign_golden_ids(
    clusters: pl.DataFrame,
    previous: pl.DataFrame | None = None,
    state: IdState | None = None,
) -> IdAssignment:
    """Golden ids for `clusters` (record_id, cluster_id), stable against `previous`
    (the previous crosswalk: record_id, golden_id)."""
    state = state or IdState()
    prefix = state.prefix
    prev = (
        previous.select(pl.col(RECORD_ID).cast(pl.String), pl.col("golden_id").cast(pl.String))
        if previous is not None
        else pl.DataFrame(schema={RECORD_ID: pl.String, "golden_id": pl.String})
    )
    cl = clusters.select(
        pl.col(RECORD_ID).cast(pl.String), pl.col("cluster_id").cast(pl.String)
    ).with_columns(pl.col(RECORD_ID).min().over("cluster_id").alias("__ckey"))
    prev_mark = prev.select(_serial(pl.col("golden_id"), prefix).max()).item()
    mark = max(state.high_water_mark, int(prev_mark or 0))

    joined = cl.join(prev, on=RECORD_ID, how="left")
    overlap = (
        joined.filter(pl.col("golden_id").is_not_null())
        .group_by("golden_id", "cluster_id")
        .agg(pl.len().alias("__n"), pl.col("__ckey").first())
    )
    heir = overlap.sort(["golden_id", "__n", "__ckey"], descending=[False, True, False]).unique(
        "golden_id", keep="first", maintain_order=True
    )
    ranked = heir.with_columns(_serial(pl.col("golden_id"), prefix).alias("__serial")).sort(
        ["cluster_id", "__serial", "golden_id"], nulls_last=True
    )
    first = pl.col("cluster_id").is_first_distinct()
    survivors = ranked.filter(first).select("cluster_id", "golden_id")
    merged = (
        ranked.filter(~first)
        .join(survivors.rename({"golden_id": "related_golden_id"}), on="cluster_id")
        .select("golden_id", pl.lit("merged").alias("change"), "related_golden_id")
    )

    fresh = (
        cl.group_by("cluster_id")
        .agg(pl.col("__ckey").first())
        .join(survivors, on="cluster_id", how="anti")
        .sort("__ckey", "cluster_id")
        # Int64 serials: a row index (UInt32) would overflow for marks above 4,294,967,295
        .with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + (mark + 1)).alias("__i"))
        .select("cluster_id", _format(pl.col("__i"), prefix).alias("golden_id"))
    )
    new_mark = mark + fresh.height
    if new_mark > MAX_SERIAL:  # ids have ID_DIGITS digits: never wrap round or grow a digit
        raise OutputError(
            f"golden ids exhausted: {fresh.height:,} new golden records would take the "
            f"high-water mark from {mark} past {MAX_SERIAL}",
            "start a new id prefix in a new --out folder",
        )
    ids = pl.concat([survivors, fresh])
    members = cl.join(ids, on="cluster_id", how="left").select(RECORD_ID, "cluster_id", "golden_id")

    # a new id that took records from a previous golden record was split off it
    split_from = (
        overlap.join(fresh, on="cluster_id", how="inner", suffix="_new")
        .sort(["golden_id_new", "__n", "golden_id"], descending=[False, True, False])
        .unique("golden_id_new", keep="first", maintain_order=True)
        .select(
            pl.col("golden_id_new").alias("golden_id"),
            pl.lit("split").alias("change"),
            pl.col("golden_id").alias("related_golden_id"),
        )
    )
    created = fresh.join(split_from, on="golden_id", how="anti").select(
        "golden_id", pl.lit("created").alias("change"), pl.lit(None, pl.String).alias("related")
    )
    before = prev.group_by("golden_id").agg(pl.len().alias("records_before"))
    after = members.group_by("golden_id").agg(pl.len().alias("records_after"))
    kept = (
        survivors.join(before, on="golden_id")
        .join(after, on="golden_id")
        .join(heir.select("golden_id", "__n"), on="golden_id")
        .filter(
            (pl.col("records_before") != pl.col("__n")) | (pl.col("records_after") != pl.col("__n"))
        )
        .select("golden_id", pl.lit("changed").alias("change"), pl.lit(None, pl.String))
    )
    removed = before.join(overlap, on="golden_id", how="anti").select(
        "golden_id", pl.lit("removed").alias("change"), pl.lit(None, pl.String)
    )
    events = pl.concat(
        [
            part.rename(
                dict(zip(part.columns, ["golden_id", "change", "related_golden_id"], strict=True))
            )
            for part in (created, split_from, merged, kept, removed)
        ]
    )
    changes = (
        events.join(before, on="golden_id", how="left")
        .join(after, on="golden_id", how="left")
        .with_columns(pl.lit(None, pl.String).alias("columns_changed"))
        .select(list(GOLDEN_CHANGES_SCHEMA))
        .cast(GOLDEN_CHANGES_SCHEMA)
        .sort("golden_id", "change")
    )
    sizes = before.join(after, on="golden_id", how="full", coalesce=True)
    return IdAssignment(members, changes, IdState(new_mark, prefix), sizes)


def describe_changes(
    assignment: IdAssignment, previous_golden: pl.DataFrame | None, golden: pl.DataFrame
) -> pl.DataFrame:
    """Membership changes plus kept golden records whose values changed (columns named)."""
    membership = assignment.changes
    if previous_golden is None:
        return membership
    common = [c for c in golden.columns if c in previous_golden.columns and c != "golden_id"]
    joined = golden.select("golden_id", *common).join(
        previous_golden.select("golden_id", *common), on="golden_id", how="inner", suffix="__prev"
    )
    differs = [
        pl.when(pl.col(c).cast(pl.String).ne_missing(pl.col(f"{c}__prev").cast(pl.String))).then(
            pl.lit(c)
        )
        for c in common
    ]
    diff = (
        joined.select(
            "golden_id",
            pl.concat_list(differs).list.drop_nulls().list.join(",").alias("columns_changed")
            if differs
            else pl.lit("").alias("columns_changed"),
        )
        .filter(pl.col("columns_changed") != "")
        .cast({"columns_changed": pl.String})
    )
    with_columns = membership.drop("columns_changed").join(diff, on="golden_id", how="left")
    value_only = (
        diff.join(membership.filter(pl.col("change") == "changed"), on="golden_id", how="anti")
        .join(assignment.sizes, on="golden_id")
        .select(
            "golden_id",
            pl.lit("changed").alias("change"),
            pl.lit(None, pl.String).alias("related_golden_id"),
            "records_before",
            "records_after",
            "columns_changed",
        )
    )
    return (
        pl.concat(
            [
                with_columns.select(list(GOLDEN_CHANGES_SCHEMA)),
                value_only.cast(GOLDEN_CHANGES_SCHEMA),
            ]
        )
        .cast(GOLDEN_CHANGES_SCHEMA)
        .sort("golden_id", "change")
    )
