"""The validate summary for people: a rich table on a terminal, aligned plain text otherwise."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from crmclean.core.validation import RuleResult, ValidationResult

_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}
HEADERS = ("rule", "check", "column", "severity", "checked", "violations", "share", "threshold")


def _cells(rule: RuleResult) -> list[str]:
    return [
        rule.rule_id,
        rule.check,
        rule.column or "-",
        rule.severity,
        f"{rule.checked:,}",
        f"{rule.violations:,}",
        f"{rule.share:.2%}",
        f"{rule.threshold:.2%}",
    ]


def summary_line(result: ValidationResult) -> str:
    counts = result.counts()
    return (
        f"score {result.score:.1f}/100 - {result.rows:,} rows, {len(result.results)} rules: "
        f"{counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed; "
        f"{result.violations.height:,} violations"
    )


def render(result: ValidationResult, console: Console) -> None:
    if console.is_terminal:
        _rich(result, console)
    else:
        _plain(result, console)


# On a narrow terminal these go first: the rule id names the check, and thresholds are in the
# rule file; the rest is what a steward acts on.
_DROPPED_BELOW = ((130, ("check", "threshold", "severity")), (100, ("column",)))


def _rich(result: ValidationResult, console: Console) -> None:
    dropped = {h for width, headers in _DROPPED_BELOW if console.width < width for h in headers}
    keep = [i for i, header in enumerate(HEADERS) if header not in dropped]
    longest_id = max((len(r.rule_id) for r in result.results), default=4)
    table = Table(title="crmclean validate", title_justify="left")
    for i in keep:
        numeric = HEADERS[i] in HEADERS[4:]
        table.add_column(
            HEADERS[i],
            justify="right" if numeric else "left",
            overflow="fold",
            min_width=min(longest_id, 36) if i == 0 else None,
        )
    table.add_column("status")
    for rule in result.results:
        status = f"[{_STYLE[rule.status]}]{rule.status}[/]"
        cells = _cells(rule)
        table.add_row(*(cells[i].replace("[", r"\[") for i in keep), status)
    console.print(table)
    console.print(summary_line(result), markup=False)


def _plain(result: ValidationResult, console: Console) -> None:
    rows = [[*HEADERS, "status"]] + [[*_cells(r), r.status] for r in result.results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(width) if 4 <= i < 8 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        console.print("  ".join(cells).rstrip(), markup=False, highlight=False)
    console.print(summary_line(result), markup=False)
