"""Report figures for matching, golden records and the review queue, from the run's tables.

Histograms are aggregated in polars and tables are capped (largest clusters, example pairs), so
the report stays small whatever the number of pairs.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from crmclean.core.contracts import PAIR_KEYS
from crmclean.io.run_outputs import RunOutputs
from crmclean.report.report_model import (
    ClusterView,
    Contribution,
    Count,
    ExamplePair,
    Golden,
    Histogram,
    Matching,
    Review,
    SourceShare,
    Threshold,
)
from crmclean.report.value_mask import Masker
from crmclean.summaries import DedupeSummary

HISTOGRAM_BINS = 40
LARGEST_CLUSTERS = 5
MEMBERS_SHOWN = 6
COLUMNS_SHOWN = 12
MAX_CLUSTER_SIZE_ROWS = 15
MAX_SOURCES = 7  # more source systems are summed into "other"


def _count(frame: pl.LazyFrame) -> int:
    return int(frame.select(pl.len()).collect().item())


def thresholds(dedupe: DedupeSummary | None) -> list[Threshold]:
    """The review and auto-merge thresholds of the matching section (match probabilities)."""
    out = []
    for label, value in (dedupe.thresholds if dedupe else {}).items():
        if not 0 < value < 1:
            continue
        weight = math.log2(value / (1 - value))
        out.append(Threshold(label, round(weight, 4), round(value, 6)))
    return sorted(out, key=lambda t: t.match_weight)


def _histogram(pairs: pl.LazyFrame, marks: list[Threshold]) -> Histogram:
    stats = pairs.select(
        pl.col("match_weight").min().alias("lo"), pl.col("match_weight").max().alias("hi")
    ).collect()
    lo_v, hi_v = stats["lo"][0], stats["hi"][0]
    if lo_v is None or hi_v is None:
        return Histogram(edges=[], counts=[])
    lo = math.floor(min([lo_v, *(t.match_weight for t in marks)]))
    hi = math.ceil(max([hi_v, *(t.match_weight for t in marks)]))
    hi = hi if hi > lo else lo + 1
    width = (hi - lo) / HISTOGRAM_BINS
    binned = (
        pairs.select(
            ((pl.col("match_weight") - lo) / width)
            .floor()
            .clip(0, HISTOGRAM_BINS - 1)
            .cast(pl.Int32)
            .alias("bin")
        )
        .drop_nulls()
        .group_by("bin")
        .len()
        .collect()
    )
    counts = [0] * HISTOGRAM_BINS
    for b, n in binned.iter_rows():
        counts[int(b)] = int(n)
    edges = [round(lo + width * i, 4) for i in range(HISTOGRAM_BINS + 1)]
    return Histogram(edges=edges, counts=counts)


def _example_pairs(outputs: RunOutputs, marks: list[Threshold]) -> list[ExamplePair]:
    pairs = outputs.table("pairs")
    if pairs is None:
        return []
    names = outputs.schemas["pairs"].names()
    comparisons = [c[3:] for c in names if c.startswith("bf_")]
    wanted = [
        c
        for c in [*PAIR_KEYS, "match_weight", "match_probability"]
        + [f"bf_{c}" for c in comparisons]
        + [f"gamma_{c}" for c in comparisons]
        if c in names
    ]
    # top_k/bottom_k are linear, a sort is not; ties fall to the smaller record ids.
    scored = pairs.select(wanted).filter(pl.col("match_weight").is_not_null())
    ids = PAIR_KEYS

    def lowest(key: pl.Expr) -> pl.LazyFrame:
        return scored.with_columns(key.alias("_key")).bottom_k(1, by=["_key", *ids])

    picks: list[tuple[str, pl.LazyFrame]] = [
        ("strongest match", lowest(-pl.col("match_weight"))),
    ]
    match = next((t for t in reversed(marks) if t.name == "match"), marks[-1] if marks else None)
    if match is not None:
        distance = (pl.col("match_weight") - match.match_weight).abs()
        picks.append((f"closest to the {match.name} threshold", lowest(distance)))
    picks.append(("weakest pair compared", lowest(pl.col("match_weight"))))
    out: list[ExamplePair] = []
    seen: set[tuple[str, str]] = set()
    found = pl.collect_all([frame for _, frame in picks])  # one scan of the pairs for all picks
    for (why, _), frame in zip(picks, found, strict=True):
        rows = frame.rows(named=True)
        if not rows or (rows[0]["record_id_l"], rows[0]["record_id_r"]) in seen:
            continue
        row = rows[0]
        seen.add((row["record_id_l"], row["record_id_r"]))
        out.append(example_pair(why, row, comparisons))
    return out


def example_pair(why: str, row: dict[str, Any], comparisons: list[str]) -> ExamplePair:
    weight = float(row["match_weight"])
    contributions = [
        Contribution(
            comparison=c,
            level=int(row[f"gamma_{c}"]) if row.get(f"gamma_{c}") is not None else None,
            match_weight=round(float(row[f"bf_{c}"] or 0.0), 4),
        )
        for c in comparisons
    ]
    prior = weight - sum(c.match_weight for c in contributions)
    contributions.insert(0, Contribution("prior", None, round(prior, 4)))
    probability = row.get("match_probability")
    return ExamplePair(
        why=why,
        record_id_l=str(row["record_id_l"]),
        record_id_r=str(row["record_id_r"]),
        match_weight=round(weight, 4),
        match_probability=round(float(probability), 6) if probability is not None else None,
        contributions=contributions,
    )


def _cluster_sizes(clusters: pl.LazyFrame) -> tuple[int, int, list[Count], pl.DataFrame]:
    sizes = clusters.group_by("cluster_id").len("size").collect()  # one scan, then in memory
    stats = sizes.select(
        pl.len().alias("clusters"),
        pl.col("size").filter(pl.col("size") > 1).sum().alias("in_duplicates"),
    )
    distribution = sizes.group_by("size").len("clusters").sort("size")
    rows = [(int(s), int(n)) for s, n in distribution.iter_rows()]
    if len(rows) > MAX_CLUSTER_SIZE_ROWS:
        head, tail = rows[: MAX_CLUSTER_SIZE_ROWS - 1], rows[MAX_CLUSTER_SIZE_ROWS - 1 :]
        counts = [Count(str(s), n) for s, n in head]
        counts.append(Count(f"{tail[0][0]}+", sum(n for _, n in tail)))
    else:
        counts = [Count(str(s), n) for s, n in rows]
    largest = (
        sizes.filter(pl.col("size") > 1)
        .with_columns((-pl.col("size").cast(pl.Int64)).alias("_key"))
        .bottom_k(LARGEST_CLUSTERS, by=["_key", "cluster_id"])
        .sort(["_key", "cluster_id"])
        .drop("_key")
    )
    return int(stats["clusters"][0]), int(stats["in_duplicates"][0] or 0), counts, largest


def _cluster_views(
    outputs: RunOutputs, clusters: pl.LazyFrame, largest: pl.DataFrame, mask: Masker
) -> list[ClusterView]:
    if largest.is_empty():
        return []
    ids = largest["cluster_id"]
    members = (
        clusters.filter(pl.col("cluster_id").is_in(ids.implode()))
        .sort(["cluster_id", "record_id"])
        .group_by("cluster_id", maintain_order=True)
        .head(MEMBERS_SHOWN)
        .collect()
    )
    records = outputs.table("clean")
    columns: list[str] = []
    values: dict[str, dict[str, Any]] = {}
    if records is not None:
        columns = [c for c in outputs.schemas["clean"].names() if c != "record_id"]
        columns = columns[:COLUMNS_SHOWN]
        shown = (
            records.filter(pl.col("record_id").is_in(members["record_id"].implode()))
            .select(["record_id", *columns])
            .collect()
        )
        values = {str(r["record_id"]): r for r in shown.iter_rows(named=True)}
    views = []
    for cluster_id, size in largest.iter_rows():
        ids_shown = members.filter(pl.col("cluster_id") == cluster_id)["record_id"].to_list()
        shown_ids = [str(i) for i in ids_shown]
        rows = [(c, [_show(mask, c, values.get(i, {}).get(c)) for i in shown_ids]) for c in columns]
        rows = [(c, v) for c, v in rows if v != shown_ids]  # the id column repeats the header
        views.append(
            ClusterView(
                str(cluster_id), int(size), shown_ids, [c for c, _ in rows], [v for _, v in rows]
            )
        )
    return views


def _show(mask: Masker, column: str, value: Any) -> str | None:
    return None if value is None else mask(column, str(value))


def matching_section(
    outputs: RunOutputs, mask: Masker, dedupe: DedupeSummary | None = None
) -> Matching | None:
    pairs, clusters = outputs.table("pairs"), outputs.table("clusters")
    if pairs is None and clusters is None:
        return None
    marks = thresholds(dedupe)
    n_pairs, per_rule, histogram = 0, [], Histogram(edges=[], counts=[])
    if pairs is not None:
        n_pairs = _count(pairs)
        if "blocking_rule" in outputs.schemas["pairs"].names():
            grouped = (
                pairs.group_by("blocking_rule")
                .len()
                .sort(["len", "blocking_rule"], descending=[True, False])
                .collect()
            )
            per_rule = [Count(str(r), int(n)) for r, n in grouped.iter_rows()]
        histogram = _histogram(pairs, marks)
    records = n_clusters = in_duplicates = None
    sizes: list[Count] = []
    views: list[ClusterView] = []
    if clusters is not None:
        records = _count(clusters)
        n_clusters, in_duplicates, sizes, largest = _cluster_sizes(clusters)
        views = _cluster_views(outputs, clusters, largest, mask)
    found = dedupe.stats.get("candidate_pairs") if dedupe else None
    candidates = found if isinstance(found, int) else None
    return Matching(
        candidate_pairs=candidates,
        pairs=n_pairs,
        pairs_per_blocking_rule=per_rule,
        weight_histogram=histogram,
        thresholds=marks,
        records=records,
        clusters=n_clusters,
        records_in_duplicate_clusters=in_duplicates,
        cluster_sizes=sizes,
        largest_clusters=views,
        example_pairs=_example_pairs(outputs, marks),
    )


def golden_section(outputs: RunOutputs) -> Golden | None:
    golden = outputs.table("golden")
    if golden is None:
        return None
    crosswalk, lineage = outputs.table("crosswalk"), outputs.table("lineage")
    source_records = merged = None
    if crosswalk is not None:
        per_golden = crosswalk.group_by("golden_id").len()
        stats = per_golden.select(
            pl.col("len").sum().alias("records"), (pl.col("len") > 1).sum().alias("merged")
        ).collect()
        source_records, merged = int(stats["records"][0] or 0), int(stats["merged"][0] or 0)
    shares: list[SourceShare] = []
    strategies: list[Count] = []
    if lineage is not None:
        names = outputs.schemas["lineage"].names()
        if "source_system" in names:
            by_source = (
                lineage.group_by("column", "source_system")
                .len()
                .sort(["column", "len", "source_system"], descending=[False, True, False])
                .collect()
            )
            for (column,), part in by_source.group_by("column", maintain_order=True):
                sources = [
                    Count(str(s) if s is not None else "(none)", int(n))
                    for _, s, n in part.iter_rows()
                ]
                if len(sources) > MAX_SOURCES:
                    rest = sum(c.count for c in sources[MAX_SOURCES - 1 :])
                    sources = [*sources[: MAX_SOURCES - 1], Count("other", rest)]
                shares.append(SourceShare(str(column), sources))
        if "strategy" in names:
            by_strategy = (
                lineage.group_by("column", "strategy").len().sort("column", "strategy").collect()
            )
            strategies = [Count(f"{c}: {s}", int(n)) for c, s, n in by_strategy.iter_rows()]
    return Golden(
        golden_records=_count(golden),
        source_records=source_records,
        merged_records=merged,
        survivorship_sources=shares,
        strategies=strategies,
        changes_since_previous=_changes_since_previous(outputs),
    )


def _changes_since_previous(outputs: RunOutputs) -> list[Count] | None:
    changes = outputs.table("changes-since-previous")
    if changes is None:
        return None
    names = outputs.schemas["changes-since-previous"].names()
    kind = next((c for c in ("change", "kind", "status", "change_type") if c in names), None)
    if kind is None:
        return [Count("changed", _count(changes))]
    grouped = changes.group_by(kind).len().sort(kind).collect()
    return [Count(str(k), int(n)) for k, n in grouped.iter_rows()]


def review_section(outputs: RunOutputs) -> Review | None:
    review = outputs.table("review")
    return Review(pairs=_count(review)) if review is not None else None
