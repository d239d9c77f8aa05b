"""The report's trend across nights (history.json, carried by `run --previous`): model -> HTML."""

from __future__ import annotations

from crmclean.report import svg
from crmclean.report.html_sections import esc, figure, num, section, table
from crmclean.report.report_model import Night

SHOWN_NIGHTS = 30
SHOWN_RULES = 15


def trend_section(nights: list[Night] | None) -> str:
    if not nights:
        return ""
    first = max(0, len(nights) - SHOWN_NIGHTS)
    shown = list(enumerate(nights))[first:]
    labels = [f"{i + 1}: {n.night}" for i, n in shown]
    score = svg.bar_chart(
        labels,
        [n.score or 0.0 for _, n in shown],
        title="Data-quality score per night",
        value_format=lambda v: f"{v:.1f}",
        max_value=100,
    )
    sizes = svg.stacked_bar(
        labels,
        [
            ("violations", [float(n.violations) for _, n in shown]),
            ("review queue", [float(n.review) for _, n in shown]),
        ],
        title="Violations and review queue per night",
        colours=[svg.STATUS_COLOURS["fail"], svg.PALETTE[0]],
        normalise=False,
    )
    rows = [
        [
            esc(f"{i + 1}: {n.night}"),
            num(f"trend.{i}.score", n.score, "score"),
            num(f"trend.{i}.violations", n.violations),
            num(f"trend.{i}.golden_records", n.golden_records),
            num(f"trend.{i}.merges", n.merges),
            num(f"trend.{i}.splits", n.splits),
            num(f"trend.{i}.review", n.review),
        ]
        for i, n in reversed(shown)
    ]
    headers = ["Night", "Score", "Violations", "Golden records", "Merges", "Splits", "Review"]
    body = (
        f"<p>{len(nights)} nights recorded in history.json; the newest last in the charts and "
        "first in the table.</p>"
        + '<div class="grid">'
        + figure(score, "Score of each night (0-100).")
        + figure(sizes, "Violation rows and pairs waiting for review.")
        + "</div>"
        + f'<div class="scroll">{table(headers, rows)}</div>'
        + _rules_moved(nights)
    )
    return section("trend", "Across nights", body)


def _rules_moved(nights: list[Night]) -> str:
    """The rules whose violations changed most since the night before."""
    before = nights[-2].violations_per_rule
    now = nights[-1].violations_per_rule
    moved = sorted(
        (r for r in {*now, *before} if now.get(r, 0) != before.get(r, 0)),
        key=lambda r: (-abs(now.get(r, 0) - before.get(r, 0)), r),
    )[:SHOWN_RULES]
    if not moved:
        return "<p>Every rule found as many violations as the night before.</p>"
    rows = [
        [
            esc(r),
            esc(f"{before.get(r, 0):,}"),
            esc(f"{now.get(r, 0):,}"),
            esc(f"{now.get(r, 0) - before.get(r, 0):+,}"),
        ]
        for r in moved
    ]
    return "<h3>Rules that moved since the night before</h3>" + table(
        ["Rule", "Night before", "Last night", "Change"], rows
    )
