"""A duplicate check at the point of entry: which golden records of a finished run is a new
record likely to be, and why.

`MatchIndex.build` keeps the run's matched records (the columns matching reads) and, per
blocking rule, their block keys sorted once; `lookup` finds a new record's candidates by binary
search in those keys, never by pairing or scanning the run's records again, then compares and
scores only those pairs with the run's own comparisons and model. New records are looked at as if
they had been in the run: a block the run skipped as too large is skipped here too, and a term
frequency counts the run's records holding the value.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching.blocking import record_keys
from crmclean.core.matching.comparing import compare, comparison_levels, exact_level, used_columns
from crmclean.core.matching.level_scalar import NoTwin, comparison_test, record_row
from crmclean.core.matching.lookup_tables import term_columns, value_counts
from crmclean.core.matching.scoring import MatchModel, score
from crmclean.core.matching.spec import MatchingSpec

Decision = Literal["same_customer", "review", "new"]
_QUERY_PREFIX = "\x00query-"  # a record id no run can hold: queries never collide with it


def needed_columns(spec: MatchingSpec) -> list[str]:
    """The cleaned columns blocking and comparing read (record_id left out)."""
    needed = {c for rule in spec.blocking for c in rule.columns}
    needed |= {c for comparison in spec.comparisons for c in used_columns(comparison)}
    return sorted(needed - {RECORD_ID})


@dataclass(frozen=True)
class _RuleKeys:
    keys: np.ndarray[Any, np.dtype[np.uint64]]  # sorted block keys
    rows: np.ndarray[Any, Any]  # the record row of each key (an integer type)
    largest: int  # blocks of this many records or more were skipped by the run


@dataclass(frozen=True)
class MatchIndex:
    """The run's matched records and their block keys, built once and read by every lookup."""

    spec: MatchingSpec
    model: MatchModel
    records: pl.DataFrame  # record_id, golden_id, the needed columns; row = position
    rules: list[_RuleKeys]
    term_counts: dict[str, _TermCounts]  # per term-frequency column

    @classmethod
    def build(cls, records: pl.DataFrame, spec: MatchingSpec, model: MatchModel) -> MatchIndex:
        """`records`: the run's cleaned records with `record_id` and `golden_id`; their block
        keys and term counts computed here (a run folder without lookup_tables' files)."""
        kept = _kept(records, spec)
        rules = []
        for rule, keyed in zip(spec.blocking, record_keys(kept, spec.blocking), strict=True):
            ordered = keyed.sort("_key")
            rules.append(
                _RuleKeys(
                    ordered.get_column("_key").to_numpy(),
                    ordered.get_column("_row").cast(pl.Int64).to_numpy(),
                    rule.max_block_size or spec.max_block_size,
                )
            )
        counts = {
            column: _TermCounts.of_table(value_counts(kept.get_column(column)))
            for column in term_columns(spec)
        }
        return cls(spec, model, kept, rules, counts)

    @classmethod
    def from_tables(
        cls,
        records: pl.DataFrame,
        spec: MatchingSpec,
        model: MatchModel,
        tables: LookupTables,
    ) -> MatchIndex:
        """The index from the tables the run wrote (core.matching.lookup_tables): nothing is
        hashed or counted again. `tables.row_of[i]` is the row in `records` of clean.parquet's
        row i (-1: a record without a golden record). ValueError when the tables do not fit."""
        kept = _kept(records, spec)
        keys = tables.keys
        _check_keys(keys, kept.height, spec)
        _check_terms(tables.terms, kept, spec)
        rule = keys.get_column("_rule").to_numpy()
        clean_rows = keys.get_column("_row").to_numpy()
        if len(rule) and int(rule[-1]) >= len(spec.blocking):
            raise ValueError(f"names blocking rule {int(rule[-1]) + 1} of {len(spec.blocking)}")
        if len(clean_rows) and int(clean_rows.max()) >= len(tables.row_of):
            raise ValueError(f"names row {int(clean_rows.max()):,} of {len(tables.row_of):,}")
        # every record matched (no quarantine): clean.parquet's rows are the records' rows
        same = len(tables.row_of) == kept.height
        rows = clean_rows if same else tables.row_of[clean_rows]
        key = keys.get_column("_key").to_numpy()
        bounds = np.concatenate([[0], np.cumsum(np.bincount(rule, minlength=len(spec.blocking)))])
        rules = []
        for position, blocking in enumerate(spec.blocking):
            part = slice(int(bounds[position]), int(bounds[position + 1]))
            matched = slice(None) if same else rows[part] >= 0
            rules.append(
                _RuleKeys(
                    key[part][matched],
                    rows[part][matched],
                    blocking.max_block_size or spec.max_block_size,
                )
            )
        terms = tables.terms
        counts = {}
        for column in term_columns(spec):
            at = terms.get_column("column").search_sorted(column, side="left")
            stop = terms.get_column("column").search_sorted(column, side="right")
            counts[column] = _TermCounts.of_table(terms.slice(at, stop - at))
        return cls(spec, model, kept, rules, counts)

    @property
    def size(self) -> int:
        return self.records.height


class TablesDoNotFit(ValueError):
    """A lookup table that is not as the run wrote it; `table` names which one."""

    def __init__(self, table: str, reason: str) -> None:
        super().__init__(reason)
        self.table = table


def _check_keys(keys: pl.DataFrame, records: int, spec: MatchingSpec) -> None:
    """The block-key index is found by binary search: unsorted or empty, it would answer
    wrongly without a word, so it is refused."""
    if keys.null_count().sum_horizontal().item():
        raise TablesDoNotFit("index", "it holds empty cells")
    if keys.height == 0 and records and spec.blocking:
        raise TablesDoNotFit("index", f"it holds no block key for {records:,} records")
    rule = keys.get_column("_rule").to_numpy()
    key = keys.get_column("_key").to_numpy()
    # rule by rule, not over a rule-and-key comparison of every row (ten times the work at
    # 15 million keys: the largest part of loading a run once)
    ordered = bool(np.all(rule[1:] >= rule[:-1]))
    bounds = np.flatnonzero(rule[1:] != rule[:-1]) + 1
    starts, stops = np.concatenate([[0], bounds]), np.concatenate([bounds, [len(rule)]])
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        ordered = ordered and bool(np.all(key[start + 1 : stop] >= key[start : stop - 1]))
    if not ordered:
        raise TablesDoNotFit("index", "its rows are not sorted by blocking rule and key")


def _check_terms(terms: pl.DataFrame, kept: pl.DataFrame, spec: MatchingSpec) -> None:
    """Term counts weigh every exact agreement: each value once, sorted, counted at least once,
    and the counts of a column add up to the records holding a value there."""
    if terms.null_count().sum_horizontal().item():
        raise TablesDoNotFit("terms", "it holds empty cells")
    if terms.height and terms.get_column("n").min() < 1:  # type: ignore[operator]
        raise TablesDoNotFit("terms", "it holds counts below 1")
    before = pl.col("column").shift(), pl.col("value").shift()
    ordered = (pl.col("column") > before[0]) | (
        (pl.col("column") == before[0]) & (pl.col("value") > before[1])
    )
    if not terms.select(ordered.fill_null(True).all()).item():
        raise TablesDoNotFit("terms", "its rows are not sorted by column and value, each once")
    totals = dict(terms.group_by("column").agg(pl.col("n").sum()).iter_rows())
    for column in term_columns(spec):
        held = int(kept.get_column(column).is_not_null().sum()) if column in kept.columns else 0
        if int(totals.get(column, 0)) != held:
            raise TablesDoNotFit(
                "terms",
                f"its counts for {column} add up to {int(totals.get(column, 0)):,}, "
                f"not to the {held:,} records that hold a value",
            )


@dataclass(frozen=True)
class LookupTables:
    """The block-key index and term counts a run wrote (lookup_tables' schemas), and where
    each of clean.parquet's rows is among the matched records (-1: not matched)."""

    keys: pl.DataFrame  # KEY_INDEX_SCHEMA, sorted by _rule, _key
    terms: pl.DataFrame  # TERM_COUNTS_SCHEMA, sorted by column, value
    row_of: np.ndarray[Any, np.dtype[np.int64]]


def _kept(records: pl.DataFrame, spec: MatchingSpec) -> pl.DataFrame:
    return records.select(
        pl.col(RECORD_ID).cast(pl.String),
        pl.col("golden_id").cast(pl.String),
        *(pl.col(c) for c in needed_columns(spec)),
    )


@dataclass(frozen=True)
class _TermCounts:
    """How many of the run's records hold each (lower-cased) value, sorted by value: a lookup
    finds its few candidates' values by binary search, never by a pass over all of them."""

    values: pl.Series  # sorted
    counts: np.ndarray[Any, np.dtype[np.int64]]
    total: int

    @classmethod
    def of_table(cls, table: pl.DataFrame) -> _TermCounts:
        """From (value, n) sorted by value (lookup_tables.value_counts)."""
        counts = table.get_column("n").cast(pl.Int64).to_numpy()
        return cls(table.get_column("value"), counts, int(counts.sum()))

    def of_one(self, wanted: str) -> int:
        """How many hold `wanted` (binary search: polars sorts text by its bytes, which is
        Python's order of code points)."""
        at = bisect.bisect_left(self.values, wanted)
        if at < len(self.values) and self.values[at] == wanted:
            return int(self.counts[at])
        return 0

    def of(self, wanted: pl.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
        if not len(self.values):
            return np.zeros(len(wanted), dtype=np.int64)
        at = self.values.search_sorted(wanted).to_numpy().clip(0, len(self.values) - 1)
        found = (self.values.gather(at) == wanted).fill_null(False).to_numpy()
        return np.where(found, self.counts[at], 0)


def _candidates(index: MatchIndex, queries: pl.DataFrame) -> pl.DataFrame:
    """(`query`, `row`) of every run record a query shares a kept block with, each once, with
    the first blocking rule (`rule`) that puts them together."""
    found_q: list[np.ndarray[Any, Any]] = []
    found_r: list[np.ndarray[Any, Any]] = []
    found_rule: list[np.ndarray[Any, Any]] = []
    for position, (keys, keyed) in enumerate(
        zip(index.rules, record_keys(queries, index.spec.blocking), strict=True)
    ):
        if not keyed.height:
            continue
        wanted = keyed.get_column("_key").to_numpy()
        start = np.searchsorted(keys.keys, wanted, side="left")
        stop = np.searchsorted(keys.keys, wanted, side="right")
        # with the new record the block has one member more: skipped as the run would skip it
        sizes = np.where(stop - start + 1 > keys.largest, 0, stop - start)
        if not sizes.sum():
            continue
        query_rows = keyed.get_column("_row").cast(pl.Int64).to_numpy()
        found_q.append(np.repeat(query_rows, sizes))
        offsets = np.repeat(start - np.cumsum(sizes) + sizes, sizes)
        found_r.append(keys.rows[offsets + np.arange(int(sizes.sum()))])
        found_rule.append(np.full(int(sizes.sum()), position, dtype=np.int64))
    if not found_q:
        return pl.DataFrame(schema={"query": pl.Int64, "row": pl.Int64, "rule": pl.Int64})
    return (
        pl.DataFrame(
            {
                "query": np.concatenate(found_q),
                "row": np.concatenate(found_r),
                "rule": np.concatenate(found_rule),
            }
        )
        .group_by("query", "row")
        .agg(pl.col("rule").min())
        .sort("query", "row")
    )


def score_candidates(index: MatchIndex, queries: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every (query, run record) pair blocking finds, scored by the run's model: `query` (row of
    `queries`), `record_id`, `golden_id`, `blocking_rule`, the `gamma_`/`bf_` columns,
    `match_weight` and `match_probability`; `_shown` is the record's row in the second frame
    returned (the candidate records, each once).

    `queries` are cleaned records holding the needed columns (missing ones count as empty)."""
    columns = needed_columns(index.spec)
    schema = index.records.schema
    queries = queries.with_columns(
        pl.lit(None, dtype=schema[c]).alias(c) for c in columns if c not in queries.columns
    ).select(
        pl.format(_QUERY_PREFIX + "{}", pl.int_range(pl.len())).alias(RECORD_ID),
        *(pl.col(c).cast(schema[c]) for c in columns),
    )
    found = _candidates(index, queries)
    rows = found.get_column("row").unique(maintain_order=True)
    shown = index.records[rows.to_numpy()]
    # the frame compared: the queries first, then each candidate record once
    frame = pl.concat([queries, shown.select(RECORD_ID, *columns)], how="vertical")
    at = pl.DataFrame({"row": rows, "_shown": pl.int_range(rows.len(), eager=True)})
    pairs = found.join(at, on="row", how="left", maintain_order="left").select(
        "query",
        "rule",
        "_shown",
        pl.col("query").cast(pl.UInt32).alias("row_l"),
        (pl.col("_shown") + queries.height).cast(pl.UInt32).alias("row_r"),
    )
    # term frequencies come from the run's records (below), not from the few compared here
    plain = [c.model_copy(update={"term_frequency": False}) for c in index.spec.comparisons]
    compared = _run_term_frequencies(index, compare(frame, pairs, plain), shown)
    labels = {i: rule.label for i, rule in enumerate(index.spec.blocking)}
    shown_ids = shown.select(RECORD_ID, "golden_id")[compared.get_column("_shown").to_numpy()]
    return score(compared, index.model).with_columns(
        shown_ids.get_column(RECORD_ID),
        shown_ids.get_column("golden_id"),
        pl.col("rule").replace_strict(labels, return_dtype=pl.String).alias("blocking_rule"),
    ).drop("row_l", "row_r", "rule"), shown


def _run_term_frequencies(
    index: MatchIndex, compared: pl.DataFrame, shown: pl.DataFrame
) -> pl.DataFrame:
    """Term frequencies from the run's records, not the few compared here: a value `n_v` of the
    run's `n` records hold is held by `n_v` of the `n` others once the new record joins."""
    updates = []
    for comparison in index.spec.comparisons:
        name = f"tf_{comparison.name}"
        exact = exact_level(comparison)
        if not comparison.term_frequency or exact is None:
            continue
        counts = index.term_counts[comparison.column]
        value = (
            shown.get_column(comparison.column)
            .cast(pl.String)
            .str.to_lowercase()
            .gather(compared.get_column("_shown"))
        )
        share = pl.Series(counts.of(value) / max(counts.total, 1), dtype=pl.Float64)
        at_exact = pl.col(f"gamma_{comparison.name}") == exact.gamma
        updates.append(pl.when(at_exact).then(pl.lit(share)).alias(name))
    return compared.with_columns(updates) if updates else compared


@dataclass(frozen=True)
class Thresholds:
    review: float
    auto_merge: float

    def decide(self, probability: float | None) -> Decision:
        if probability is not None and probability >= self.auto_merge:
            return "same_customer"
        if probability is not None and probability >= self.review:
            return "review"
        return "new"


def lookup(
    index: MatchIndex,
    queries: pl.DataFrame,
    *,
    limit: int = 5,
    min_probability: float | None = None,
) -> list[dict[str, Any]]:
    """Per query (cleaned records, in order): the decision the thresholds imply and its best
    `limit` candidate golden records at or above `min_probability` (default: the review
    threshold), each with the member record that matched best and why, field by field.

    One record (the entry form's case) is compared pair by pair without frames
    (`_scored_one`); several in one batch of frames. Both give the same answers."""
    thresholds = Thresholds(index.spec.thresholds.review, index.spec.thresholds.merge_at)
    floor = thresholds.review if min_probability is None else min_probability
    if queries.height == 1:
        one = _scored_one(index, queries)
        if one is not None:
            cleaned = queries.row(0, named=True)
            return [_answer_one(index.spec, thresholds, floor, limit, cleaned, one)]
    return lookup_frames(index, queries, thresholds, floor, limit)


def lookup_frames(
    index: MatchIndex, queries: pl.DataFrame, thresholds: Thresholds, floor: float, limit: int
) -> list[dict[str, Any]]:
    """`lookup` for a batch of records, through frames."""
    scored, shown = score_candidates(index, queries)
    best = (
        scored.sort(["query", "match_probability", RECORD_ID], descending=[False, True, False])
        .group_by("query", "golden_id", maintain_order=True)
        .first()
    )
    top = best.group_by("query", maintain_order=True).agg(pl.col("match_probability").max())
    tops = dict(zip(top.get_column("query"), top.get_column("match_probability"), strict=True))
    kept = (
        best.filter(pl.col("match_probability") >= floor)
        .group_by("query", maintain_order=True)
        .head(limit)
    )
    cleaned = queries.to_dicts()
    answers: list[dict[str, Any]] = [
        {
            "decision": thresholds.decide(tops.get(i)),
            "best_probability": tops.get(i),
            "compared": 0,
            "candidates": [],
        }
        for i in range(queries.height)
    ]
    for query, n in scored.get_column("query").value_counts().iter_rows():
        answers[query]["compared"] = int(n)
    for row in kept.iter_rows(named=True):
        candidate = shown.row(row["_shown"], named=True)
        answers[row["query"]]["candidates"].append(
            {
                "golden_id": row["golden_id"],
                "record_id": row[RECORD_ID],
                "match_probability": row["match_probability"],
                "match_weight": row["match_weight"],
                "decision": thresholds.decide(row["match_probability"]),
                "blocking_rule": row["blocking_rule"],
                "fields": _fields(index.spec, row, cleaned[row["query"]], candidate),
            }
        )
    return answers


def _fields(
    spec: MatchingSpec, row: dict[str, Any], query: dict[str, Any], candidate: dict[str, Any]
) -> list[dict[str, Any]]:
    """Per comparison: both values, the level that held and its log2 Bayes factor."""
    out = []
    for comparison in spec.comparisons:
        gamma = int(row[f"gamma_{comparison.name}"])
        label = next(lv.label for lv in comparison_levels(comparison) if lv.gamma == gamma)
        out.append(
            {
                "name": comparison.name,
                "column": comparison.column,
                "value": query.get(comparison.column),
                "candidate_value": candidate.get(comparison.column),
                "gamma": gamma,
                "level": label,
                "bayes_factor": float(row[f"bf_{comparison.name}"]),
            }
        )
    return out


def _scored_one(index: MatchIndex, query: pl.DataFrame) -> list[dict[str, Any]] | None:
    """One cleaned record's candidate pairs scored without a frame per comparison: its blocks
    by binary search, each pair's levels by `level_scalar`'s twins of the comparisons, the run's
    term frequencies by binary search, and the model's `score` on one small frame. Per pair
    (best first: probability, then record id) its scores and `_candidate` record; None when
    a comparison has no twin or a value is one only the frames read alike (the caller then
    takes `score_candidates`, which gives the same answer)."""
    columns = needed_columns(index.spec)
    schema = index.records.schema
    if any(schema[c] != pl.String for c in columns):
        return None
    tests = [comparison_test(c) for c in index.spec.comparisons]
    if any(test is None for test in tests):
        return None
    values = query.row(0, named=True)
    raw = {c: _as_text(values.get(c)) for c in columns}
    left = record_row(raw)
    one = pl.DataFrame({c: [raw[c]] for c in columns}, schema=dict.fromkeys(columns, pl.String))
    found = _candidates(index, one)
    rows = found.get_column("row").to_list()
    rules = found.get_column("rule").to_list()
    shown = index.records[rows].to_dicts() if rows else []
    gammas: dict[str, list[int]] = {c.name: [] for c in index.spec.comparisons}
    try:
        for candidate in shown:
            right = record_row({c: candidate[c] for c in columns})
            for comparison, test in zip(index.spec.comparisons, tests, strict=True):
                gammas[comparison.name].append(test(left, right))  # type: ignore[misc]
    except NoTwin:
        return None
    frame = pl.DataFrame(
        {
            **{f"gamma_{name}": pl.Series(g, dtype=pl.Int8) for name, g in gammas.items()},
            **_term_frequencies_one(index, shown, gammas),
        }
    )
    scored = score(frame, index.model).to_dicts() if shown else []
    labels = [rule.label for rule in index.spec.blocking]
    for pair, candidate, rule in zip(scored, shown, rules, strict=True):
        pair[RECORD_ID] = candidate[RECORD_ID]
        pair["golden_id"] = candidate["golden_id"]
        pair["blocking_rule"] = labels[rule]
        pair["_candidate"] = candidate
    scored.sort(key=lambda pair: (-pair["match_probability"], pair[RECORD_ID]))
    return scored


def _as_text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(value)


def _term_frequencies_one(
    index: MatchIndex, shown: list[dict[str, Any]], gammas: dict[str, list[int]]
) -> dict[str, pl.Series]:
    """_run_term_frequencies for one record's pairs: at the exact level, the share of the
    run's records holding the candidate's (lower-cased) value."""
    out = {}
    for comparison in index.spec.comparisons:
        exact = exact_level(comparison)
        if not comparison.term_frequency or exact is None:
            continue
        counts = index.term_counts[comparison.column]
        shares = [
            counts.of_one(str(candidate[comparison.column]).lower()) / max(counts.total, 1)
            if gamma == exact.gamma
            else None
            for candidate, gamma in zip(shown, gammas[comparison.name], strict=True)
        ]
        out[f"tf_{comparison.name}"] = pl.Series(shares, dtype=pl.Float64)
    return out


def _answer_one(
    spec: MatchingSpec,
    thresholds: Thresholds,
    floor: float,
    limit: int,
    cleaned: dict[str, Any],
    scored: list[dict[str, Any]],
) -> dict[str, Any]:
    """`lookup`'s answer for one record from its pairs, best first."""
    best: dict[str, dict[str, Any]] = {}
    for pair in scored:  # the first pair of a golden record is its best
        best.setdefault(pair["golden_id"], pair)
    top = scored[0]["match_probability"] if scored else None
    kept = [pair for pair in best.values() if pair["match_probability"] >= floor][:limit]
    return {
        "decision": thresholds.decide(top),
        "best_probability": top,
        "compared": len(scored),
        "candidates": [
            {
                "golden_id": pair["golden_id"],
                "record_id": pair[RECORD_ID],
                "match_probability": pair["match_probability"],
                "match_weight": pair["match_weight"],
                "decision": thresholds.decide(pair["match_probability"]),
                "blocking_rule": pair["blocking_rule"],
                "fields": _fields(spec, pair, cleaned, pair["_candidate"]),
            }
            for pair in kept
        ],
    }
