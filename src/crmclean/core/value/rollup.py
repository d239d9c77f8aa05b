"""Measures per golden record (or per source record) from the matched movements, and the
key-account flag: one join and one group_by per movement table, no loop over customers."""

from __future__ import annotations

import math
from datetime import date

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.value.measures import AMOUNT, DATE, Context, measures
from crmclean.core.value.movements import RIX, MatchedMovements
from crmclean.core.value.spec import KeyAccountSpec, RollupSpec

KEY_ACCOUNT = "key_account"
_TRUE = ["true", "t", "yes", "y", "1", "x", "ja", "wahr"]


def as_of_date(spec: RollupSpec, matched: MatchedMovements) -> date | None:
    """The day windows and recency count back from: the rule file's, or the latest date of any
    usable movement row, on a golden record or not (so the same data gives the same values
    whatever day the run is, and whichever customers are in it)."""
    if isinstance(spec.as_of, date):
        return spec.as_of
    return matched.latest


def _window(within: str | None, as_of: date | None) -> pl.Expr | None:
    if within is None:
        return None
    if as_of is None:  # no dated movement at all: nothing is inside any window
        return pl.lit(False)
    start = pl.lit(as_of, pl.Date).dt.offset_by("-" + within)
    return (pl.col(DATE) > start) & (pl.col(DATE) <= pl.lit(as_of, pl.Date))


def roll_up(
    matched: MatchedMovements,
    members: pl.DataFrame,
    spec: RollupSpec,
    *,
    key: str = "golden_id",
    as_of: date | None = None,
    only: set[str] | None = None,
) -> pl.DataFrame:
    """One row per key of `members` (record_id -> key; for survivorship key is record_id
    itself), one column per measure (or per measure in `only`). A key without movements has
    0 for sums and counts and null for dates and scores.

    Keys are replaced by integer codes before grouping, and columns only counted distinct by
    their categorical codes: grouping ten million rows by text costs several times more.
    """
    keys = members.select(key).unique().sort(key).with_row_index("__k")
    pairs = members.select(RECORD_ID, key) if key != RECORD_ID else members.select(RECORD_ID)
    code = (
        matched.record_ids.rename(RECORD_ID)
        .to_frame()
        .join(pairs, on=RECORD_ID, how="left", maintain_order="left")
        .join(keys, on=key, how="left", maintain_order="left")
        .get_column("__k")
    )
    out = keys
    wanted = {n: m for n, m in spec.measures.items() if only is None or n in only}
    for name, frame in matched.tables.items():
        mine = {n: m for n, m in wanted.items() if spec.table_of(m) == name}
        if not mine:
            continue
        amount = AMOUNT if spec.tables[name].amount else ""
        contexts = {n: Context(n, _window(m.within, as_of), amount) for n, m in mine.items()}
        aggs = [e for n, m in mine.items() for e in measures.get(m.type).aggs(m, contexts[n])]
        distinct = {m.column for m in mine.values() if m.type == "distinct_count"}
        # rows of records outside `members` form one null group, dropped after grouping
        finished = (
            frame.lazy()
            .select(
                pl.lit(code).gather(pl.col(RIX)).alias("__k"),
                *[pl.col(c) for c in frame.columns if c != RIX and c not in distinct],
                *[pl.col(c).cast(pl.Categorical).to_physical() for c in distinct],
            )
            .group_by("__k")
            .agg(aggs)
            .filter(pl.col("__k").is_not_null())
            .select(
                "__k",
                *[measures.get(m.type).finish(m, contexts[n]).alias(n) for n, m in mine.items()],
            )
            .collect()
        )
        out = out.join(finished, on="__k", how="left", maintain_order="left")
    fills = {
        n: pl.col(n).fill_null(measures.get(m.type).fill)
        for n, m in wanted.items()
        if measures.get(m.type).fill is not None and n in out.columns
    }
    return out.with_columns(**fills).select(key, *[n for n in wanted if n in out.columns])


def key_accounts(
    values: pl.DataFrame,
    rule: KeyAccountSpec,
    *,
    flags: pl.DataFrame | None = None,
    key: str = "golden_id",
) -> pl.Series:
    """Boolean per row of `values`: in the top share of the measure (ties at the cut all in; a
    customer with nothing is never top), or any member flagged (`flags`: key, flag value)."""
    top = pl.lit(False)
    if rule.measure is not None and rule.top_percent is not None:
        measure = pl.col(rule.measure)
        cut = math.ceil(values.height * rule.top_percent / 100)
        positive = measure.is_not_null() & (measure.cast(pl.Float64) > 0)
        rank = pl.when(positive).then(measure).rank("min", descending=True)
        top = positive & (rank <= cut)
    frame = values.select(key, top.fill_null(False).alias(KEY_ACCOUNT))
    if rule.flag_column is not None and flags is not None:
        flagged = (
            flags.select(
                key,
                pl.col(rule.flag_column)
                .cast(pl.String)
                .str.strip_chars()
                .str.to_lowercase()
                .is_in(_TRUE)
                .fill_null(False)
                .alias("__flag"),
            )
            .group_by(key)
            .agg(pl.col("__flag").any())
        )
        frame = frame.join(flagged, on=key, how="left", maintain_order="left").select(
            key, (pl.col(KEY_ACCOUNT) | pl.col("__flag").fill_null(False)).alias(KEY_ACCOUNT)
        )
    return frame.get_column(KEY_ACCOUNT)
