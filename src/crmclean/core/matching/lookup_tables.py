"""What a run leaves for the duplicate check at entry (`match`, `serve`), so loading a run folder
reads tables instead of building them: the block-key index and the term-frequency counts.

- the block-key index (KEY_INDEX_SCHEMA): per blocking rule `_rule`, each block key `_key` and
  the row `_row` of the record holding it in the run's clean.parquet, sorted by rule and key; a
  lookup finds a new record's blocks by binary search in it. It is made from the block keys
  every run keeps for the next incremental night (record_id, _rule, _key), not hashed again.
- the term-frequency counts (TERM_COUNTS_SCHEMA): per term-frequency `column`, each lower-cased
  non-blank `value` of the matched records and how many hold it (`n`), sorted by column, value.

Both are pure functions of the run's cleaned records and keys; crmclean.io.match_tables writes
and reads them.
"""

from __future__ import annotations

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching.comparing import exact_level
from crmclean.core.matching.spec import MatchingSpec

KEY_INDEX_SCHEMA = pl.Schema({"_rule": pl.UInt8, "_key": pl.UInt64, "_row": pl.UInt32})
TERM_COUNTS_SCHEMA = pl.Schema({"column": pl.String, "value": pl.String, "n": pl.Int64})


def term_columns(spec: MatchingSpec) -> list[str]:
    """The columns whose term frequencies a lookup reads (those of comparisons with
    `term_frequency` and an exact level), each once, in comparison order."""
    wanted = [c.column for c in spec.comparisons if c.term_frequency and exact_level(c) is not None]
    return list(dict.fromkeys(wanted))


def key_index(keys: pl.DataFrame, record_ids: pl.Series) -> pl.DataFrame:
    """The block-key index: `keys` (record_id, _rule, _key, as every run keeps them) with each
    record's row in `record_ids` (the order of clean.parquet), sorted by rule, key and row."""
    rows = record_ids.cast(pl.String).to_frame(RECORD_ID).with_row_index("_row")
    return (
        keys.select(RECORD_ID, "_rule", "_key")
        .join(rows, on=RECORD_ID, how="inner")
        .select("_rule", "_key", "_row")
        .cast(KEY_INDEX_SCHEMA)
        .sort("_rule", "_key", "_row")
    )


def value_counts(values: pl.Series) -> pl.DataFrame:
    """(value, n) of the non-blank values lower-cased, sorted by value: counted as
    comparing.term_frequencies counts them."""
    text = values.cast(pl.String)
    text = text.filter(text.str.strip_chars().str.len_chars() > 0).str.to_lowercase()
    return (
        text.alias("value")
        .value_counts(name="n")
        .select("value", pl.col("n").cast(pl.Int64))
        .sort("value")
    )


def term_counts(matched: pl.DataFrame, spec: MatchingSpec) -> pl.DataFrame:
    """The term-frequency counts of the matched records (TERM_COUNTS_SCHEMA)."""
    parts = [
        value_counts(matched.get_column(column)).select(
            pl.lit(column, pl.String).alias("column"), "value", "n"
        )
        for column in term_columns(spec)
    ]
    if not parts:
        return pl.DataFrame(schema=TERM_COUNTS_SCHEMA)
    return pl.concat(parts).cast(TERM_COUNTS_SCHEMA).sort("column", "value")
