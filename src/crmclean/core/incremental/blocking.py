"""Blocking for an incremental run: every record's block keys are kept between runs, so the new
and changed records are paired with every record sharing a block without pairing anyone else.

A block that crosses its max_block_size since the previous run changes the pairs of records that
did not change (a full run would pair or skip them all): that is unsafe, and said so.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmclean.core.contracts import PAIR_KEYS, RECORD_ID, source_of
from crmclean.core.matching.blocking import BlockingTooLarge, record_keys
from crmclean.core.matching.lookup_tables import KEY_INDEX_SCHEMA
from crmclean.core.matching.spec import MatchingSpec

KEYS_SCHEMA = pl.Schema({RECORD_ID: pl.String, "_rule": pl.UInt8, "_key": pl.UInt64})


class IncrementalUnsafe(Exception):
    """An incremental run would not give what a full run gives: the reason, for the fallback."""


def block_keys(frame: pl.DataFrame, spec: MatchingSpec) -> pl.DataFrame:
    """Every record's complete block keys under each rule (KEYS_SCHEMA): the hash `block`
    groups by, so blocks of the previous run and of today's new records meet."""
    return keys_of(frame, record_keys(frame, spec.blocking))


def keyed_rows(frame: pl.DataFrame, spec: MatchingSpec) -> list[pl.DataFrame]:
    """Per rule, every record's block keys by row of `frame` (`_row`, `_key`): one hashing of
    the records, from which both `keys_of` (what the next night reads) and `index_of` (the
    entry lookup's index) are made, the index without joining keys back to rows by id."""
    return record_keys(frame, spec.blocking)


def index_of(keyed: list[pl.DataFrame]) -> pl.DataFrame:
    """The block-key index (KEY_INDEX_SCHEMA, sorted by rule, key and row) from `keyed_rows`:
    what lookup_tables.key_index makes of the keys and the same frame's record ids."""
    rows = [
        each.select(pl.lit(index, pl.UInt8).alias("_rule"), "_key", "_row")
        for index, each in enumerate(keyed)
    ]
    if not rows:
        return pl.DataFrame(schema=KEY_INDEX_SCHEMA)
    return pl.concat(rows).cast(KEY_INDEX_SCHEMA).sort("_rule", "_key", "_row")


def keys_of(frame: pl.DataFrame, keyed: list[pl.DataFrame]) -> pl.DataFrame:
    """`block_keys` of `frame` from its `keyed_rows`."""
    ids = frame.get_column(RECORD_ID).cast(pl.String)
    parts = [
        each.select(
            ids.gather(each.get_column("_row")).alias(RECORD_ID),
            pl.lit(index, pl.UInt8).alias("_rule"),
            "_key",
        )
        for index, each in enumerate(keyed)
    ]
    if not parts:
        return pl.DataFrame(schema=KEYS_SCHEMA)
    return pl.concat(parts).cast(KEYS_SCHEMA)


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
    # pairs to compare and score: record_id_l < record_id_r, _rule (first rule), _rules (bits)
    pairs: pl.DataFrame
    unblocked: pl.DataFrame  # record_id_l, record_id_r: earlier candidates no block holds now
    pair_totals: list[int]  # per rule, as pair_totals() would count today's keys


_BLOCK = ["_rule", "_key"]


def _member_pairs(members: pl.DataFrame) -> pl.DataFrame:
    """Every pair of records sharing a block of `members` (record_id, _rule, _key)."""
    return (
        members.join(members, on=_BLOCK, suffix="_o")
        .filter(pl.col(RECORD_ID) < pl.col(f"{RECORD_ID}_o"))
        .select(
            pl.col(RECORD_ID).alias("record_id_l"), pl.col(f"{RECORD_ID}_o").alias("record_id_r")
        )
    )


def delta_blocking(
    previous_keys: pl.DataFrame,
    delta_keys: pl.DataFrame,
    gone: pl.Series,
    spec: MatchingSpec,
    previous_totals: list[int],
    *,
    force: bool = False,
) -> DeltaBlocking:
    """The candidate pairs that differ from the previous run's: those of the new and changed
    records (`delta_keys`), and those of blocks that crossed their size limit either way.

    `gone`: changed and deleted record ids, whose previous keys no longer hold. Raises
    BlockingTooLarge as `block` does.
    """
    delta_keys = delta_keys.cast(KEYS_SCHEMA)
    # two passes over the previous keys: which of them are gone, and the previous members of
    # the blocks the changes touch; everything else reads those few blocks
    gone_ids = gone.cast(pl.String).implode()
    is_gone = previous_keys.get_column(RECORD_ID).is_in(gone_ids)
    today = pl.concat([previous_keys.filter(~is_gone), delta_keys])
    touched = pl.concat(
        [delta_keys.select(_BLOCK), previous_keys.filter(is_gone).select(_BLOCK)]
    ).unique()
    before = previous_keys.join(touched, on=_BLOCK, how="semi")
    # today's members of the touched blocks (the new ids are in no previous block)
    now = pl.concat([before.filter(~pl.col(RECORD_ID).is_in(gone_ids)), delta_keys])
    old_n = before.group_by(_BLOCK).len("_old")
    new_n = now.group_by(_BLOCK).len("_new")
    sizes = (
        touched.join(old_n, on=_BLOCK, how="left")
        .join(new_n, on=_BLOCK, how="left")
        .fill_null(0)
        .join(_limits(spec), on="_rule")
    )
    limit = pl.col("_limit")
    totals = _totals(sizes, spec, previous_totals, force)
    was_open, is_open = pl.col("_old") <= limit, (pl.col("_new") >= 2) & (pl.col("_new") <= limit)
    opened = sizes.filter(is_open)
    # a block that closed (grew past its limit): its pairs may have no block left
    closed = sizes.filter(was_open & (pl.col("_old") >= 2) & ~is_open).select(_BLOCK)
    reopened = sizes.filter(~was_open & is_open).select(_BLOCK)
    members = now.join(opened.select(_BLOCK), on=_BLOCK, how="semi")
    # a new or changed record's blocks are all touched: joining its keys with the members of
    # the open ones gives its pairs and every open block they share, no other block needed
    shared = (
        delta_keys.join(members, on=_BLOCK, suffix="_o")
        .filter(pl.col(RECORD_ID) != pl.col(f"{RECORD_ID}_o"))
        .select(
            pl.min_horizontal(RECORD_ID, f"{RECORD_ID}_o").alias("record_id_l"),
            pl.max_horizontal(RECORD_ID, f"{RECORD_ID}_o").alias("record_id_r"),
            "_rule",
        )
    )
    others = pl.concat(
        [
            _member_pairs(members.join(reopened, on=_BLOCK, how="semi")),
            _member_pairs(now.join(closed, on=_BLOCK, how="semi")),
        ]
    ).unique()
    if spec.mode == "link_only":
        apart = source_of(pl.col("record_id_l")) != source_of(pl.col("record_id_r"))
        shared, others = shared.filter(apart), others.filter(apart)
    found = pl.concat([shared.select(PAIR_KEYS), others]).unique()
    # pairs of unchanged records only (a block opened or closed): their blocks are counted
    delta_ids = delta_keys.get_column(RECORD_ID).unique().implode()
    unchanged = others.filter(
        ~pl.col("record_id_l").is_in(delta_ids) & ~pl.col("record_id_r").is_in(delta_ids)
    )
    known = sizes.select(*_BLOCK, "_new")
    pairs = pl.concat(
        [_united(shared, len(spec.blocking)), _first_rules(unchanged, today, known, spec)]
    )
    pairs = pairs.sort(PAIR_KEYS)
    unblocked = found.join(pairs, on=PAIR_KEYS, how="anti")
    return DeltaBlocking(today, pairs, unblocked.sort("record_id_l", "record_id_r"), totals)


def _totals(sizes: pl.DataFrame, spec: MatchingSpec, previous: list[int], force: bool) -> list[int]:
    """Today's pairs per rule from the previous totals and the touched blocks' sizes."""
    limit = pl.col("_limit")
    change = sizes.group_by("_rule").agg(
        (_pairs_in(pl.col("_new"), limit) - _pairs_in(pl.col("_old"), limit)).sum().alias("_d")
    )
    delta = dict(zip(change["_rule"].to_list(), change["_d"].to_list(), strict=True))
    totals = [int(t + delta.get(i, 0)) for i, t in enumerate(previous)]
    for rule, total in zip(spec.blocking, totals, strict=True):
        allowed = rule.max_pairs or spec.max_pairs_per_rule
        if total > allowed and not force:
            raise BlockingTooLarge(
                f"blocking rule {rule.label} would generate {total:,} pairs (limit {allowed:,})",
                hint="add a column to the rule, lower max_block_size, raise "
                "matching.max_pairs_per_rule, or pass --force",
            )
    return totals


def _first_rules(
    found: pl.DataFrame, today: pl.DataFrame, known: pl.DataFrame, spec: MatchingSpec
) -> pl.DataFrame:
    """The pairs of `found` that share an open block today, with the first rule that holds
    (`_rule`) and the bitmask of all of them (`_rules`), as `block` unites them. `known`:
    today's sizes (`_new`) of the touched blocks; other blocks are counted here."""
    if found.is_empty():
        return _united(found.with_columns(pl.lit(0, pl.UInt8).alias("_rule")), len(spec.blocking))
    ids = pl.concat([found["record_id_l"], found["record_id_r"]]).unique()
    held = today.join(pl.DataFrame({RECORD_ID: ids}), on=RECORD_ID, how="semi")
    shared = found.join(held.rename({RECORD_ID: "record_id_l"}), on="record_id_l").join(
        held.rename({RECORD_ID: "record_id_r"}), on=["record_id_r", *_BLOCK]
    )
    blocks = shared.select(_BLOCK).unique()
    unknown = blocks.join(known, on=_BLOCK, how="anti")
    if unknown.height:  # blocks no change touched (pairs of a block that opened or closed)
        counted = today.join(unknown, on=_BLOCK, how="semi").group_by(_BLOCK).len("_new")
        known = pl.concat([known, counted.cast(known.schema)])
    counts = (
        blocks.join(known, on=_BLOCK)
        .join(_limits(spec), on="_rule")
        .filter((pl.col("_new") >= 2) & (pl.col("_new") <= pl.col("_limit")))
    )
    return _united(shared.join(counts.select(_BLOCK), on=_BLOCK, how="semi"), len(spec.blocking))


def _united(shared: pl.DataFrame, rules: int) -> pl.DataFrame:
    """Per pair (`record_id_l, record_id_r, _rule`: one row per open block they share), the
    first rule that holds (`_rule`) and the bitmask of all of them (`_rules`)."""
    bits = {index: 1 << index for index in range(rules)}
    return (
        shared.select(*PAIR_KEYS, "_rule")
        .unique()
        .group_by(PAIR_KEYS)
        .agg(
            pl.col("_rule").min().alias("_rule"),
            pl.col("_rule").replace_strict(bits, return_dtype=pl.UInt32).sum().alias("_rules"),
        )
    )
