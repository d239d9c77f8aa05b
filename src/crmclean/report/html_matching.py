"""Report sections for matching, golden records and the review queue: model part -> HTML."""

from __future__ import annotations

from crmclean.report import svg
from crmclean.report.html_sections import esc, figure, num, section, table
from crmclean.report.report_model import (
    ClusterView,
    Contribution,
    ExamplePair,
    Golden,
    Matching,
    Review,
)


def _cluster(view: ClusterView, i: int) -> str:
    head = "".join(f"<th>{esc(r)}</th>" for r in view.record_ids)
    body = "".join(
        f"<tr><th>{esc(col)}</th>" + "".join(_member_cell(v, vals[0]) for v in vals) + "</tr>"
        for col, vals in zip(view.columns, view.values, strict=True)
    )
    more = view.size - len(view.record_ids)
    extra = f" (first {len(view.record_ids)} shown, {more:,} more)" if more > 0 else ""
    return (
        f'<div class="cluster"><h4>Cluster {esc(view.cluster_id)}: '
        f"{num(f'matching.largest_clusters.{i}.size', view.size)} records{esc(extra)}</h4>"
        f'<div class="scroll"><table class="side"><thead><tr><th>record_id</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></div>"
    )


def _member_cell(value: str | None, first: str | None) -> str:
    """A member's value; marked when it differs from the first member's (what the steward
    compares)."""
    if value is None:
        return '<td class="muted">–</td>'
    return f'<td class="differs">{esc(value)}</td>' if value != first else f"<td>{esc(value)}</td>"


def _bar_label(c: Contribution) -> str:
    """`email: same (exact)` as the review screen says it; the level's number only when the
    run's model names none."""
    if c.level is None:
        return c.comparison
    words = [w for w in (c.agreement, f"({c.label})" if c.label else None) if w]
    return f"{c.comparison}: {' '.join(words)}" if words else f"{c.comparison} (level {c.level})"


def _pair(pair: ExamplePair, i: int) -> str:
    chart = svg.bar_chart(
        [_bar_label(c) for c in pair.contributions],
        [c.match_weight for c in pair.contributions],
        title=f"Match weight contributions: {pair.record_id_l} vs {pair.record_id_r}",
        value_format=lambda v: f"{v:+.2f}",
    )
    p = f"matching.example_pairs.{i}"
    return (
        f"<h4>{esc(pair.why.capitalize())}: {esc(pair.record_id_l)} vs {esc(pair.record_id_r)}, "
        f"match weight {num(p + '.match_weight', pair.match_weight, 'float')}, probability "
        f"{num(p + '.match_probability', pair.match_probability, 'pct')}</h4>"
        + figure(
            chart, "log2 Bayes factor per comparison; bars left of zero count against a match."
        )
    )


def matching_section(part: Matching | None) -> str:
    if part is None:
        return ""
    compared = (
        f"{num('matching.candidate_pairs', part.candidate_pairs)} candidate pairs compared; "
        if part.candidate_pairs is not None
        else ""
    )
    body = [
        f"<p>{compared}{num('matching.pairs', part.pairs)} pairs at or above the review "
        "threshold; "
        f"{num('matching.records', part.records)} records in "
        f"{num('matching.clusters', part.clusters)} clusters; "
        f"{num('matching.records_in_duplicate_clusters', part.records_in_duplicate_clusters)} "
        "records "
        "share a cluster with another record.</p>"
    ]
    if part.pairs_per_blocking_rule:
        rows = [
            [
                f"<code>{esc(c.label)}</code>",
                num(f"matching.pairs_per_blocking_rule.{i}.count", c.count),
            ]
            for i, c in enumerate(part.pairs_per_blocking_rule)
        ]
        body.append("<h3>Pairs per blocking rule</h3>" + table(["Blocking rule", "Pairs"], rows))
    h = part.weight_histogram
    if h.counts:
        chart = svg.histogram(
            h.edges,
            h.counts,
            title="Match weight of candidate pairs",
            thresholds=[(t.name, t.match_weight) for t in part.thresholds],
            x_label="match weight (log2 Bayes factor)",
            y_label="pairs",
        )
        marks = "; ".join(
            f"{esc(t.name)} at weight "
            f"{num(f'matching.thresholds.{i}.match_weight', t.match_weight, 'float')} (probability "
            f"{num(f'matching.thresholds.{i}.match_probability', t.match_probability, 'pct')})"
            for i, t in enumerate(part.thresholds)
        )
        body.append(
            "<h3>Match weights</h3>"
            + figure(chart, "Pairs kept, by match weight; dashed lines: thresholds.")
            + (f"<p>{marks}</p>" if marks else "")
        )
    if part.cluster_sizes:
        chart = svg.bar_chart(
            [f"size {c.label}" for c in part.cluster_sizes],
            [c.count for c in part.cluster_sizes],
            title="Clusters by size",
        )
        body.append(
            "<h3>Cluster sizes</h3>"
            + figure(chart, "Number of clusters of each size (1 = no duplicate found).")
        )
    if part.largest_clusters:
        body.append(
            "<h3>Largest clusters</h3>"
            + "".join(_cluster(v, i) for i, v in enumerate(part.largest_clusters))
        )
    if part.example_pairs:
        body.append(
            "<h3>Why pairs matched</h3>"
            + "".join(_pair(p, i) for i, p in enumerate(part.example_pairs))
        )
    return section("matching", "Matching", "".join(body))


def golden_section(part: Golden | None) -> str:
    if part is None:
        return ""
    body = [
        f"<p>{num('golden.golden_records', part.golden_records)} golden records from "
        f"{num('golden.source_records', part.source_records)} source records; "
        f"{num('golden.merged_records', part.merged_records)} golden records merge several.</p>"
    ]
    if part.survivorship_sources:
        names = list(dict.fromkeys(c.label for s in part.survivorship_sources for c in s.sources))
        series = [
            (
                name,
                [
                    float(next((c.count for c in s.sources if c.label == name), 0))
                    for s in part.survivorship_sources
                ],
            )
            for name in names
        ]
        chart = svg.stacked_bar(
            [s.column for s in part.survivorship_sources],
            series,
            title="Survivorship sources per column",
        )
        body.append(
            "<h3>Which source won</h3>"
            + figure(chart, "Share of golden values taken from each source system.")
            + _survivorship_table(part, names)
        )
    elif part.strategies:
        rows = [
            [esc(c.label), num(f"golden.strategies.{i}.count", c.count)]
            for i, c in enumerate(part.strategies)
        ]
        body.append(
            "<h3>Survivorship strategies</h3>" + table(["Column: strategy", "Values"], rows)
        )
    if part.changes_since_previous is not None:
        rows = [
            [esc(c.label), num(f"golden.changes_since_previous.{i}.count", c.count)]
            for i, c in enumerate(part.changes_since_previous)
        ]
        body.append(
            "<h3>Changes since the previous run</h3>" + table(["Change", "Golden records"], rows)
        )
    return section("golden", "Golden records", "".join(body))


def review_section(part: Review | None, drill_down: str = "") -> str:
    if part is None:
        return ""
    return section(
        "review",
        "Review queue",
        f"<p>{num('review.pairs', part.pairs)} pairs wait in the review queue for a data "
        "steward's decision (review.parquet).</p>" + drill_down,
    )


def _survivorship_table(part: Golden, sources: list[str]) -> str:
    """One row per column: the values each source won, then the strategies that decided (the
    most used first); a strategy that only took the only record's value is not a decision."""
    by_column: dict[str, list[tuple[int, str, int]]] = {}
    for k, c in enumerate(part.strategies):
        column, _, strategy = c.label.partition(": ")
        if strategy not in ("only_record", "only_value", "no_value"):
            by_column.setdefault(column, []).append((k, strategy, c.count))
    rows = []
    for i, share in enumerate(part.survivorship_sources):
        won = {c.label: (k, c.count) for k, c in enumerate(share.sources)}
        cells = [
            num(f"golden.survivorship_sources.{i}.sources.{won[name][0]}.count", won[name][1])
            if name in won
            else "–"
            for name in sources
        ]
        decided = sorted(by_column.get(share.column, []), key=lambda t: -t[2])
        rule = ", ".join(
            f"{esc(strategy)} {num(f'golden.strategies.{k}.count', count)}"
            for k, strategy, count in decided
        )
        rows.append([esc(share.column), *cells, rule or '<span class="muted">–</span>'])
    return '<div class="scroll">' + table(["Column", *sources, "Decided by"], rows) + "</div>"
