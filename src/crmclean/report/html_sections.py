"""One function per report section: model part -> HTML fragment (empty when the part is absent).
Matching, golden records and the review queue are in html_matching.py.

Every figure goes through `num()`, which tags it with its path in report.json, so a test can
check that the page shows exactly what the JSON says. Every other text goes through `esc()`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from crmclean.report import svg
from crmclean.report.report_model import (
    ColumnProfile,
    ReportModel,
    RuleResult,
    Standardisation,
)

MAX_CHARTED_RULES = 30


def esc(text: object) -> str:
    """Escaped text (customer data included); control characters become U+FFFD."""
    return svg.escape("" if text is None else text)


def num(path: str, value: int | float | None, kind: str = "int") -> str:
    """A figure tagged with its report.json path; kind: int, pct (a share), float, score."""
    if value is None:
        return f'<span class="num na" data-field="{esc(path)}" data-value="null">–</span>'
    if kind == "pct":
        shown = _percent(value)
    elif kind == "float":
        shown = f"{value:,.2f}"
    elif kind == "score":
        shown = f"{value:.1f}"
    else:
        shown = f"{int(value):,}"
    return (
        f'<span class="num" data-field="{esc(path)}" data-value="{esc(json.dumps(value))}">'
        f"{esc(shown)}</span>"
    )


def _percent(share: float) -> str:
    """A share as a percentage with one decimal, more when that would round a share that is not
    0 or 1 to 0.0% or 100.0% (99.99% is not 100%)."""
    for decimals in (1, 2, 3, 4):
        shown = f"{share:.{decimals}%}"
        if not (0 < share < 1) or float(shown[:-1]) not in (0.0, 100.0):
            return shown
    return shown


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """rows hold ready HTML fragments (escaped or from num())."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def figure(chart: str, caption: str) -> str:
    return f"<figure>{chart}<figcaption>{esc(caption)}</figcaption></figure>"


def _dl(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"
    )


def summary_section(model: ReportModel, verdict: str = "") -> str:
    """The verdict (html_verdict.py) first, then the score and the facts of the run."""
    s = model.summary
    status = (
        f"{num('summary.exit_status', s.exit_status)} {esc(s.exit_meaning or '')}"
        if s.exit_status is not None
        else "not recorded"
    )
    facts = [
        ("Command", esc(s.command)),
        ("Input", esc(s.input or "not recorded")),
        ("Rows", num("summary.rows", s.rows)),
        *(
            [("Quarantined rows", num("summary.quarantined", s.quarantined))]
            if s.quarantined is not None
            else []
        ),
        ("Rule file", esc(s.rule_file or "not recorded")),
        ("crmclean version", esc(s.version)),
        ("Started", esc(s.started_at or "not recorded")),
        ("Finished", esc(s.finished_at or "not recorded")),
        ("Exit status", status),
        ("Built from", esc(", ".join(s.outputs))),
    ]
    if s.score is None:
        score = ""
    else:
        band = "good" if s.score >= 90 else "fair" if s.score >= 70 else "poor"
        if s.exit_status not in (None, 0):  # the verdict above says failed: no green card
            band = "held"
        score = (
            f'<div class="score {band}"><div class="big">{num("summary.score", s.score, "score")}'
            f"<small>/100</small></div><div>Data-quality score</div>"
            f'<p class="method">{esc(s.score_method)}</p></div>'
        )
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in model.notes)
    masked = (
        '<p class="note">Personal values are shown unmasked (--show-values). '
        "Handle this file as personal data.</p>"
        if model.values_shown
        else '<p class="muted">Values of personal-data columns are masked.</p>'
    )
    return section(
        "summary",
        "Run summary",
        f'{verdict}<div class="summary">{score}{_dl(facts)}</div>{notes}{masked}',
    )


def _badge(status: str) -> str:
    return f'<span class="badge {esc(status)}">{esc(status)}</span>'


def rules_section(rules: list[RuleResult] | None, drill_down: str = "") -> str:
    if rules is None:
        return ""
    if not rules:
        return section("rules", "Rule results", "<p>No rules were checked.</p>")
    counts = {k: sum(r.status == k for r in rules) for k in ("pass", "warn", "fail")}
    tally = " · ".join(f"{_badge(k)} {v}" for k, v in counts.items())
    flagged = [r for r in rules if r.violations > 0][:MAX_CHARTED_RULES]
    chart = svg.bar_chart(
        [r.rule_id for r in flagged],
        [r.share * 100 for r in flagged],
        title="Share of checked rows violating each rule (%)",
        colours=[svg.STATUS_COLOURS.get(r.status, svg.PALETTE[0]) for r in flagged],
        value_format=lambda v: f"{v:.1f}%",
    )
    clean = len(rules) - sum(r.violations > 0 for r in rules)
    caption = f"Rules that found violations; colour = status. {clean} rule(s) found none."
    rows = [
        [
            _badge(r.status),
            esc(r.rule_id),
            esc(r.check or ""),
            esc(r.column or "(dataset)"),
            esc(r.severity),
            num(f"rules.{i}.violations", r.violations),
            num(f"rules.{i}.share", r.share, "pct"),
            num(f"rules.{i}.threshold", r.threshold, "pct") if r.threshold else "0",
            '<span class="examples">'
            + ", ".join(f"<code>{esc(v)}</code>" for v in r.examples)
            + "</span>",
        ]
        for i, r in enumerate(rules)
        if r.violations > 0
    ]
    quiet = [r.rule_id for r in rules if r.violations == 0]
    headers = ["Status", "Rule", "Check", "Column", "Severity", "Violations", "Share"]
    table_html = table([*headers, "Allowed", "Examples"], rows, "rules")
    body = (
        f"<p>{tally}</p>"
        + (figure(chart, caption) if flagged else "<p>No rule found a violation.</p>")
        + (f'<div class="scroll">{table_html}</div>' if rows else "")
        + (
            f'<p class="muted">{len(quiet)} rule(s) found no violation: '
            + ", ".join(f"<code>{esc(q)}</code>" for q in quiet)
            + "</p>"
            if quiet
            else ""
        )
        + drill_down
    )
    return section("rules", "Rule results", body)


def columns_section(columns: list[ColumnProfile] | None) -> str:
    if not columns:
        return ""
    labels = [c.column for c in columns]
    chart = svg.stacked_bar(
        labels,
        [
            ("valid", [c.validity or 0.0 for c in columns]),
            (
                "flagged by a rule",
                [1 - (c.validity if c.validity is not None else 1.0) for c in columns],
            ),
        ],
        title="Validity per column",
        colours=[svg.STATUS_COLOURS["pass"], svg.STATUS_COLOURS["fail"]],
        show_totals=False,
    )
    complete = svg.bar_chart(
        labels,
        [(c.completeness or 0.0) * 100 for c in columns],
        title="Completeness per column (%)",
        value_format=lambda v: f"{v:.1f}%",
        max_value=100,
    )
    rows = [
        [
            esc(c.column) + (' <span class="tag">PII</span>' if c.pii else ""),
            num(f"columns.{i}.completeness", c.completeness, "pct"),
            num(f"columns.{i}.validity", c.validity, "pct"),
            num(f"columns.{i}.violations", c.violations),
        ]
        for i, c in enumerate(columns)
    ]
    has_completeness = any(c.completeness is not None for c in columns)
    has_validity = any(c.validity is not None for c in columns)
    body = (
        '<div class="grid">'
        + (figure(complete, "Share of non-empty values.") if has_completeness else "")
        + (
            figure(chart, "Share of rows no error or warn rule flagged in the column.")
            if has_validity
            else ""
        )
        + "</div>"
        + table(["Column", "Completeness", "Validity", "Rows flagged"], rows)
    )
    return section("columns", "Column profile", body)


def standardisation_section(part: Standardisation | None) -> str:
    if part is None:
        return ""
    chart = svg.stacked_bar(
        [s.step + (" (format only)" if s.cosmetic else "") for s in part.steps],
        [("changed", [s.changed for s in part.steps]), ("error", [s.errors for s in part.steps])],
        title="Values changed per standardisation step",
        colours=[svg.PALETTE[0], svg.STATUS_COLOURS["fail"]],
        normalise=False,
    )
    rows = [
        [
            esc(s.step) + (' <span class="tag">format only</span>' if s.cosmetic else ""),
            num(f"standardisation.steps.{i}.changed", s.changed),
            num(f"standardisation.steps.{i}.errors", s.errors),
            esc(", ".join(s.columns)),
        ]
        for i, s in enumerate(part.steps)
    ]
    body = (
        f"<p>{num('standardisation.values_changed', part.values_changed)} values changed in "
        f"{num('standardisation.records_changed', part.records_changed)} records; "
        f"{num('standardisation.errors', part.errors)} values could not be standardised.</p>"
        + (
            figure(
                chart,
                "Changed values and errors per step; steps that only change how a value is "
                "written (dates, spaces) come last.",
            )
            + table(["Step", "Changed", "Errors", "Columns"], rows)
            if part.steps
            else ""
        )
    )
    return section("standardisation", "Standardisation", body)
