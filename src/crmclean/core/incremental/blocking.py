"""Blocking for an incremental run: every record's block keys are kept between runs, so the new
and changed records are paired with every record sharing a block without pairing anyone else.

A block that crosses its max_block_size since the previous run changes the pairs of records that
did not change (a full run would pair or skip them all): that is unsafe, and said so.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmclean.core.contracts import RECORD_ID, source_of
from crmclean.core.matching.blocking import BlockingTooLarge, record_keys
from crmclean.core.matching.spec import MatchingSpec

KEYS_SCHEMA = pl.Schema({RECORD_ID: pl.String, "_rule": pl.UInt8, "_key": pl.UInt64})


class IncrementalUnsafe(Exception):
    """An incremental run would not give what a full run gives: the reason, for the fallback."""


def block_keys(frame: pl.DataFrame, spec: MatchingSpec) -> pl.DataFrame:
    """Every record's complete block keys under each rule (KEYS_SCHEMA): the hash `block`
    groups by, so blocks of the previous run and of today's new records meet."""
    ids = frame.get_column(RECORD_ID).cast(pl.String)
    parts = [
        keyed.select(
            ids.gather(keyed.get_column("_row")).alias(RECORD_ID),
            pl.lit(index, pl.UInt8).alias("_rule"),
            "_key",
        )
        for index, keyed in enumerate(record_keys(frame, spec.blocking))
    ]
    if not parts:
        return pl.DataFrame(schema=KEYS_SCHEMA)
    return pl.concat(parts).cast(dict(KEYS_SCHEMA))


def _limits(spec: MatchingSpec) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_rule": list(range(len(spec.blocking))),
            "_limit": [r.max_block_size or spec.max_block_size for r in spec.blocking],
        },
        schema={"_rule": pl.UInt8, "_limit": pl.Int64},
    )


def _pairs_in(n: pl.Expr, limit: pl.Expr) -> pl.Expr:
    """Pairs a block of n records adds (none above its limit), as `block` counts them."""
    n64 = n.cast(pl.Int64)
    return pl.when(n64 <= limit).then(n64 * (n64 - 1) // 2).otherwise(0)


def pair_totals(keys: pl.DataFrame, spec: MatchingSpec) -> list[int]:
    """Per rule, the pairs its kept blocks hold (the figure max_pairs_per_rule limits)."""
    sizes = (
        keys.group_by("_rule", "_key")
        .len("_n")
        .join(_limits(spec), on="_rule")
        .group_by("_rule")
        .agg(_pairs_in(pl.col("_n"), pl.col("_limit")).sum().alias("_pairs"))
    )
    found = dict(zip(sizes["_rule"].to_list(), sizes["_pairs"].to_list(), strict=True))
    return [int(found.get(i, 0)) for i in range(len(spec.blocking))]


@dataclass(frozen=True)
class DeltaBlocking:
    keys: pl.DataFrame  # today's keys of every record (KEYS_SCHEMA)
    pairs: pl.DataFrame  # record_id_l < record_id_r, _rule (first rule), _rules (bitmask)
    pair_totals: list[int]  # per rule, as pair_totals() would count today's keys


def delta_blocking(
    previous_keys: pl.DataFrame,
    delta_keys: pl.DataFrame,
    gone: pl.Series,
    spec: MatchingSpec,
    previous_totals: list[int],
    *,
    force: bool = False,
) -> DeltaBlocking:
    """Candidate pairs of the new and changed records (`delta_keys`) with every record today.

    `gone`: changed and deleted record ids, whose previous keys no longer hold. Raises
    IncrementalUnsafe when a block crossed its size limit, BlockingTooLarge as `block` does.
    """
    kept = previous_keys.filter(~pl.col(RECORD_ID).is_in(gone.implode()))
    today = pl.concat([kept, delta_keys.cast(dict(KEYS_SCHEMA))])
    old_keys = previous_keys.filter(pl.col(RECORD_ID).is_in(gone.implode()))
    touched = pl.concat([delta_keys.select("_rule", "_key"), old_keys.select("_rule", "_key")])
    touched = touched.unique()
    old_n = previous_keys.join(touched, on=["_rule", "_key"], how="semi").group_by(
        "_rule", "_key"
    ).len("_old")
    new_n = today.join(touched, on=["_rule", "_key"], how="semi").group_by("_rule", "_key").len(
        "_new"
    )
    mine = delta_keys.group_by("_rule", "_key").len("_mine")
    sizes = (
        touched.join(old_n, on=["_rule", "_key"], how="left")
        .join(new_n, on=["_rule", "_key"], how="left")
        .join(mine, on=["_rule", "_key"], how="left")
        .fill_null(0)
        .join(_limits(spec), on="_rule")
    )
    limit = pl.col("_limit")
    crossed = sizes.filter(
        ((pl.col("_new") - pl.col("_mine")) >= 2)
        & ((pl.col("_old") <= limit) != (pl.col("_new") <= limit))
    )
    if crossed.height:
        rule = spec.blocking[int(crossed["_rule"][0])]
        raise IncrementalUnsafe(
            f"{crossed.height} block(s) crossed max_block_size (first under blocking rule "
            f"{rule.label}): the pairs of unchanged records change"
        )
    change = sizes.group_by("_rule").agg(
        (_pairs_in(pl.col("_new"), limit) - _pairs_in(pl.col("_old"), limit)).sum().alias("_d")
    )
    delta = dict(zip(change["_rule"].to_list(), change["_d"].to_list(), strict=True))
    totals = [int(t + delta.get(i, 0)) for i, t in enumerate(previous_totals)]
    for rule, total in zip(spec.blocking, totals, strict=True):
        allowed = rule.max_pairs or spec.max_pairs_per_rule
        if total > allowed and not force:
            raise BlockingTooLarge(
                f"blocking rule {rule.label} would generate {total:,} pairs (limit {allowed:,})",
                hint="add a column to the rule, lower max_block_size, raise "
                "matching.max_pairs_per_rule, or pass --force",
            )
    open_blocks = sizes.filter((pl.col("_new") >= 2) & (pl.col("_new") <= limit))
    members = today.join(open_blocks.select("_rule", "_key"), on=["_rule", "_key"], how="semi")
    found = (
        delta_keys.join(open_blocks.select("_rule", "_key"), on=["_rule", "_key"], how="semi")
        .join(members, on=["_rule", "_key"], suffix="_o")
        .filter(pl.col(RECORD_ID) != pl.col(f"{RECORD_ID}_o"))
        .select(
            pl.min_horizontal(RECORD_ID, f"{RECORD_ID}_o").alias("record_id_l"),
            pl.max_horizontal(RECORD_ID, f"{RECORD_ID}_o").alias("record_id_r"),
            "_rule",
        )
        .unique()
    )
    if spec.mode == "link_only":
        found = found.filter(
            source_of(pl.col("record_id_l")) != source_of(pl.col("record_id_r"))
        )
    bits = {index: 1 << index for index in range(len(spec.blocking))}
    pairs = (
        found.group_by("record_id_l", "record_id_r")
        .agg(
            pl.col("_rule").min().alias("_rule"),
            pl.col("_rule").replace_strict(bits, return_dtype=pl.UInt32).sum().alias("_rules"),
        )
        .sort("record_id_l", "record_id_r")
    )
    return DeltaBlocking(today, pairs, totals)
