"""The verdict that opens the report: the outcome (failed rules in red, with counts, linking to
their records), then the score. A run that exited 1 never opens with a green card."""

from __future__ import annotations

from crmclean.core.checks import checks
from crmclean.report.html_sections import esc, num
from crmclean.report.report_model import ReportModel, RuleResult


def rule_anchor(index: int) -> str:
    """The id of a rule's drill-down (rule ids hold dots and brackets: the index is safer)."""
    return f"rule-{index}"


def verdict_block(model: ReportModel) -> str:
    rules = model.rules or []
    failed = [(i, r) for i, r in enumerate(rules) if r.status == "fail"]
    warned = [(i, r) for i, r in enumerate(rules) if r.status == "warn"]
    code = model.summary.exit_status
    if failed or (code is not None and code != 0):
        kind, headline = "fail", _failed_headline(len(failed), len(warned), code)
    elif warned:
        kind, headline = "warn", f"Passed with {len(warned)} rule(s) warning"
    else:
        kind, headline = "pass", "Passed: every rule held" if rules else "Done"
    if code is not None:
        headline += f" · exit {code}"
    items = [_item(i, r) for i, r in failed] + [_item(i, r) for i, r in warned]
    listed = f"<ul>{''.join(items)}</ul>" if items else ""
    if model.summary.command == "run" and rules:
        listed += (
            '<p class="muted">These checks ran on the cleaned data, so they count fewer '
            "violations than <code>crmclean validate</code> on the raw file: a value cleaning "
            "fixed or set aside no longer fails (docs/run.md).</p>"
        )
    return (
        f'<div class="verdict {kind}" role="status"><p class="headline">{esc(headline)}</p>'
        f"{listed}</div>"
    )


def _failed_headline(failed: int, warned: int, code: int | None) -> str:
    if failed:
        return f"Data failed: {failed} rule(s) failed" + (f", {warned} warned" if warned else "")
    if code == 1 and warned:  # --fail-on warn
        return f"Data failed: {warned} warned rule(s) count as failures (--fail-on warn)"
    return "The run did not succeed"


def _item(index: int, rule: RuleResult) -> str:
    where = f" in {rule.column}" if rule.column else ""
    head = f'<li class="{esc(rule.status)}"><a href="#{rule_anchor(index)}">{esc(rule.rule_id)}</a>'
    if _whole_data_set(rule):  # freshness, row_count: "100 % of checked rows" says nothing
        return f"{head}{esc(where)}: the data set as a whole does not meet it</li>"
    return (
        f"{head}{esc(where)}: {num(f'rules.{index}.violations', rule.violations)} violation(s), "
        f"{num(f'rules.{index}.share', rule.share, 'pct')} of checked rows</li>"
    )


def _whole_data_set(rule: RuleResult) -> bool:
    """A check that judges the data set once (its `scope` in the check registry)."""
    return (
        rule.check is not None
        and rule.check in checks
        and checks.get(rule.check).scope == "dataset"
    )
