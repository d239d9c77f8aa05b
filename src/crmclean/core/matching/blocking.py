"""Blocking: candidate pairs are records that agree exactly on every column of some rule.

The pairs of all rules are united, each pair once, attributed to the first rule that finds it;
`_rules` keeps a bitmask of every rule that holds (training needs it). Blocks so large that they
would dominate (a placeholder phone, an empty-looking e-mail) are skipped and reported, and a
rule that would still generate too many pairs is refused before a single pair is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import polars as pl

from crmclean.core.contracts import source_of
from crmclean.core.matching.spec import BlockingRule
from crmclean.errors import UsageError

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


@dataclass(frozen=True)
class BlockingRuleStats:
    rule: str
    blocks: int  # blocks with two or more records
    pairs: int  # pairs this rule generates (before the union)
    new_pairs: int  # pairs first found by this rule
    largest_block: int
    top_block_share: float  # share of this rule's pairs inside its largest block
    skipped_blocks: int  # blocks above max_block_size
    skipped_pairs: int
    skipped_examples: list[tuple[str, int]] = field(default_factory=list)  # key, records


@dataclass(frozen=True)
class BlockingResult:
    pairs: pl.DataFrame  # row_l, row_r (UInt32, row_l < row_r), _rule (UInt8), _rules (UInt32)
    rules: list[BlockingRuleStats]


class BlockingTooLarge(UsageError):
    """A blocking rule would generate more pairs than allowed."""

    @classmethod
    def of(cls, label: str, pairs_total: int, limit: int, largest: int) -> BlockingTooLarge:
        """The one message every engine gives (polars, DuckDB, Spark)."""
        return cls(
            f"blocking rule {label} would generate {pairs_total:,} pairs "
            f"(limit {limit:,}; largest block {largest:,} records)",
            hint="add a column to the rule, lower max_block_size, raise "
            "matching.max_pairs_per_rule, or pass --force",
        )


def _pair_count(size: pl.Expr) -> pl.Expr:
    return (size.cast(pl.Int64) * (size.cast(pl.Int64) - 1) // 2).sum()


def _keys(
    frame: pl.DataFrame, rules: list[BlockingRule]
) -> tuple[pl.DataFrame, dict[tuple[str, bool], str]]:
    """Every blocking column of `rules` trimmed and lower-cased once (and split at spaces once
    where a rule blocks on its words), shared by all rules: the frame and, per (column, words),
    the name of its key column."""
    names: dict[tuple[str, bool], str] = {}
    for rule in rules:
        for column in rule.columns:
            names.setdefault((column, column in rule.any_word), f"_k{len(names)}")
    normal = {
        c: pl.col(c).cast(pl.String).str.strip_chars().str.to_lowercase()
        for c in dict.fromkeys(c for c, _ in names)
    }
    keys = frame.select(
        pl.int_range(frame.height, dtype=pl.UInt32).alias("_row"),
        *(
            (normal[c].str.split(" ") if words else normal[c]).alias(name)
            for (c, words), name in names.items()
        ),
    )
    return keys, names


def _keyed(keys: Frame, names: dict[tuple[str, bool], str], rule: BlockingRule) -> Frame:
    """Each record's complete keys under `rule` (`_row`, `_key`). Records are grouped by a
    64-bit hash of the key (a collision could only add candidate pairs, never lose one). A column
    under `any_word` is split at spaces first: the record joins one block per word."""
    parts = [f"_c{i}" for i in range(len(rule.columns))]
    keyed = keys.select(
        "_row",
        *(
            pl.col(names[(c, c in rule.any_word)]).alias(part)
            for c, part in zip(rule.columns, parts, strict=True)
        ),
    )
    for column, part in zip(rule.columns, parts, strict=True):
        if column in rule.any_word:
            keyed = keyed.explode(part)
    complete = pl.all_horizontal(pl.col(k).is_not_null() & (pl.col(k) != "") for k in parts)
    keyed = keyed.filter(complete).select(
        "_row", pl.concat_str(parts, separator="\x1f").hash(seed=0).alias("_key")
    )
    if rule.any_word:
        keyed = keyed.unique(maintain_order=True)  # the same order every run (blocking_keys)
    return keyed


def _blocks(
    keys: pl.DataFrame, names: dict[tuple[str, bool], str], rule: BlockingRule
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records with a complete key (`_row`, `_key`, in blocks of any size) and the blocks of
    two or more records (`_key`, `_n`, `_block`: the block's first row)."""
    keyed = _keyed(keys, names, rule)
    sizes = (
        keyed.group_by("_key")
        .agg(pl.len().alias("_n"), pl.col("_row").min().alias("_block"))
        .filter(pl.col("_n") >= 2)
        .sort("_block", "_key")
    )
    return keyed, sizes


def record_keys(frame: pl.DataFrame, rules: list[BlockingRule]) -> list[pl.DataFrame]:
    """Per rule, every record's block keys (`_row` into `frame`, `_key`: the hash `block` groups
    by), so a lookup can find the blocks a new record joins without pairing `frame` again.
    The rules' keys are collected together: for a lookup's one record, one call instead of a
    few per rule."""
    keys, names = _keys(frame, rules)
    return pl.collect_all([_keyed(keys.lazy(), names, rule) for rule in rules])


def _rule_pairs(members: pl.DataFrame, unique: bool) -> pl.DataFrame:
    joined = members.join(members, on="_key", suffix="_r")
    pairs = joined.filter(pl.col("_row") < pl.col("_row_r")).select(
        pl.col("_row").alias("row_l"), pl.col("_row_r").alias("row_r")
    )
    return pairs.unique() if unique else pairs  # two shared words: one pair


def _examples(frame: pl.DataFrame, rule: BlockingRule, over: pl.DataFrame) -> list[tuple[str, int]]:
    """The three largest skipped blocks: a member's key values and the block's size (for
    a word column the member's whole value: the word is one of its words)."""
    top = over.head(3)
    keys = frame.select(rule.columns)[top.get_column("_block")]
    return [
        ("|".join(str(v) for v in values), int(n))
        for values, n in zip(keys.iter_rows(), top.get_column("_n"), strict=True)
    ]


def block(
    frame: pl.DataFrame,
    rules: list[BlockingRule],
    *,
    max_pairs_per_rule: int,
    max_block_size: int,
    force: bool = False,
) -> BlockingResult:
    """Candidate pairs of `frame` (sorted by record_id) under the union of `rules`."""
    found: list[pl.DataFrame] = []
    stats: list[dict[str, object]] = []
    keys, names = _keys(frame, rules)
    for index, rule in enumerate(rules):
        members, sizes = _blocks(keys, names, rule)
        largest_allowed = rule.max_block_size or max_block_size
        kept = sizes.filter(pl.col("_n") <= largest_allowed)
        over = sizes.filter(pl.col("_n") > largest_allowed).sort("_n", descending=True)
        pairs_total = int(kept.select(_pair_count(pl.col("_n"))).item() or 0)
        limit = rule.max_pairs or max_pairs_per_rule
        if pairs_total > limit and not force:
            largest = int(kept.get_column("_n").max() or 0)  # type: ignore[arg-type]
            raise BlockingTooLarge.of(rule.label, pairs_total, limit, largest)
        examples = _examples(frame, rule, over)
        members = members.join(kept.select("_key"), on="_key", how="semi")
        pairs = _rule_pairs(members, bool(rule.any_word)).with_columns(
            pl.lit(index, dtype=pl.UInt8).alias("_rule")
        )
        found.append(pairs)
        largest_pairs = int(kept.select((pl.col("_n") * (pl.col("_n") - 1) // 2).max()).item() or 0)
        stats.append(
            {
                "rule": rule.label,
                "blocks": kept.height,
                "pairs": pairs.height,
                "largest_block": int(kept.get_column("_n").max() or 0),  # type: ignore[arg-type]
                "top_block_share": largest_pairs / pairs.height if pairs.height else 0.0,
                "skipped_blocks": over.height,
                "skipped_pairs": int(over.select(_pair_count(pl.col("_n"))).item() or 0),
                "skipped_examples": examples,
            }
        )
    united = _unite(found)
    firsts = united.get_column("_rule").value_counts(name="_n")
    new = dict(
        zip(firsts.get_column("_rule").to_list(), firsts.get_column("_n").to_list(), strict=True)
    )
    result = [
        BlockingRuleStats(new_pairs=int(new.get(i, 0)), **s)  # type: ignore[arg-type]
        for i, s in enumerate(stats)
    ]
    return BlockingResult(united, result)


def across_sources(blocked: BlockingResult, record_ids: pl.Series) -> BlockingResult:
    """`matching.mode: link_only`: the blocked pairs whose two records come from different
    sources (record ids `<source>:<id>`, in row order). The per-rule figures stay those of the
    blocking itself."""
    sources = record_ids.to_frame("id").select(source_of(pl.col("id"))).to_series()
    left = sources.gather(blocked.pairs.get_column("row_l"))
    right = sources.gather(blocked.pairs.get_column("row_r"))
    return BlockingResult(blocked.pairs.filter(left != right), blocked.rules)


def _unite(found: list[pl.DataFrame]) -> pl.DataFrame:
    """Each pair once, ordered by (row_l, row_r): its first rule and the bitmask of all rules."""
    if not found:
        return pl.DataFrame(
            schema={"row_l": pl.UInt32, "row_r": pl.UInt32, "_rule": pl.UInt8, "_rules": pl.UInt32}
        )
    bits = {index: 1 << index for index in range(len(found))}
    shift = 2**32  # (row_l, row_r) packed into one UInt64 key: one fast hash group-by
    stacked = pl.concat(found, how="vertical").select(
        (pl.col("row_l").cast(pl.UInt64) * shift + pl.col("row_r").cast(pl.UInt64)).alias("_key"),
        "_rule",
    )
    return (
        stacked.group_by("_key")
        .agg(
            pl.col("_rule").min().alias("_rule"),
            pl.col("_rule").replace_strict(bits, return_dtype=pl.UInt32).sum().alias("_rules"),
        )
        .sort("_key")
        .select(
            (pl.col("_key") // shift).cast(pl.UInt32).alias("row_l"),
            (pl.col("_key") % shift).cast(pl.UInt32).alias("row_r"),
            "_rule",
            "_rules",
        )
    )
