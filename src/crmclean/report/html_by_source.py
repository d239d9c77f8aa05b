"""The report's section per source system: model part -> HTML (empty when absent)."""

from __future__ import annotations

from crmclean.report import svg
from crmclean.report.html_sections import esc, figure, num, section, table
from crmclean.report.report_model import SourceFigures


def by_source_section(part: list[SourceFigures] | None) -> str:
    if not part:
        return ""
    chart = svg.bar_chart(
        [s.source for s in part],
        [100 * s.records_flagged / s.records if s.records else 0.0 for s in part],
        title="Records flagged by a rule, per source system (%)",
        colours=[svg.STATUS_COLOURS["fail"]] * len(part),
        value_format=lambda v: f"{v:.1f}%",
    )
    rows = [
        [
            esc(s.source),
            num(f"by_source.{i}.records", s.records),
            num(f"by_source.{i}.violations", s.violations),
            num(f"by_source.{i}.records_flagged", s.records_flagged),
            num(f"by_source.{i}.completeness", s.completeness, "pct"),
            num(f"by_source.{i}.in_duplicates", s.in_duplicates),
            num(f"by_source.{i}.golden_values_won", s.golden_values_won),
        ]
        for i, s in enumerate(part)
    ]
    headers = [
        "Source",
        "Records",
        "Violations",
        "Records flagged",
        "Completeness",
        "In duplicates",
        "Golden values won",
    ]
    body = (
        "<p>Each source system's records, the rules they break, how complete they are, how many "
        "of them turned out to be duplicates, and how often survivorship took their values.</p>"
        + figure(chart, "Share of the source's records at least one rule flagged.")
        + f'<div class="scroll">{table(headers, rows)}</div>'
    )
    return section("sources", "By source system", body)
