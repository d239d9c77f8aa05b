"""The report's drill-down, in-page and without scripts: per failed or warned rule its first
offending records (a <details> the verdict links to), and the review queue's most uncertain
pairs with the weight each field adds, adding up to the match weight."""

from __future__ import annotations

from crmclean.report.html_sections import esc, num, table
from crmclean.report.html_verdict import rule_anchor
from crmclean.report.report_model import Contribution, ExamplePair, Review, RuleResult


def rule_records(rules: list[RuleResult]) -> str:
    blocks = [_rule(i, r) for i, r in enumerate(rules) if r.records]
    if not blocks:
        return ""
    return "<h3>Offending records</h3>" + "".join(blocks)


def _rule(index: int, rule: RuleResult) -> str:
    rows = [
        [esc(r.record_id), f"<code>{esc(r.value)}</code>" if r.value else "–"] for r in rule.records
    ]
    more = rule.violations - len(rule.records)
    note = (
        f'<p class="muted">First {len(rule.records)} shown; {more:,} more. All of them are in '
        "violations.parquet in the same folder.</p>"
        if more > 0
        else '<p class="muted">All of them; also in violations.parquet.</p>'
    )
    opened = " open" if rule.status == "fail" else ""
    return (
        f'<details id="{rule_anchor(index)}"{opened}><summary>'
        f'<span class="badge {esc(rule.status)}">{esc(rule.status)}</span> '
        f"{esc(rule.rule_id)}: {num(f'rules.{index}.violations', rule.violations)} violation(s)"
        f'</summary><div class="scroll">{table(["Record id", "Value"], rows)}</div>{note}</details>'
    )


# More pairs than stewards decide one by one in a day or two: the report says how to work them.
LARGE_QUEUE = 2_000


def review_pairs(part: Review) -> str:
    shown = _large_queue(part) + _precision(part)
    if not part.top_pairs:
        return shown
    return shown + (
        "<h3>Most uncertain pairs</h3><p>Match probability nearest 50%: where a steward's "
        "decision counts most. Each field's weight (log2 Bayes factor) and the prior add up to "
        "the match weight.</p>"
        + "".join(_pair(i, p, part.folder or "OUT") for i, p in enumerate(part.top_pairs))
    )


def _large_queue(part: Review) -> str:
    if part.pairs <= LARGE_QUEUE:
        return ""
    folder = esc(part.folder or "OUT")
    return (
        f'<p class="note">{part.pairs:,} pairs wait for review: more than stewards decide one by '
        f"one. Decide the ones that matter first (<code>crmclean review {folder} --order "
        "value</code>: key accounts and the most valuable customers first, when the run rolled "
        f"value up), label a random sample (<code>crmclean review {folder} --sample 150</code>) "
        "to learn how the band's pairs usually end, and when nearly all end one way, move "
        "<code>thresholds.review</code> or <code>auto_merge</code> (docs/matching.md, "
        "choosing thresholds).</p>"
    )


def _precision(part: Review) -> str:
    """The automatic merges' estimated precision, from the steward's labelled sample."""
    p = part.precision
    if p is None:
        return (
            '<p class="muted">No automatic merge is labelled yet: <code>crmclean review '
            f"{esc(part.folder or 'OUT')} --sample 50</code> asks a steward about 50 random "
            "ones and estimates their precision.</p>"
        )
    return (
        '<p class="verdict pass">Automatic merges: estimated precision '
        f"{num('review.precision.precision', p.precision, 'float')} "
        f"&plusmn; {esc(f'{(p.high - p.low) / 2:.2f}')} from "
        f"{num('review.precision.labelled', p.labelled)} reviewed pairs (95% interval "
        f"{num('review.precision.low', p.low, 'float')}&ndash;"
        f"{num('review.precision.high', p.high, 'float')}).</p>"
    )


def _level(c: Contribution) -> str:
    """The level as the review screen says it: `same (exact)`, `missing (null)`; its number
    only when the run's model names none."""
    if c.level is None:
        return "–"
    if c.agreement is None and c.label is None:
        return esc(c.level)
    words = [w for w in (c.agreement, f"({c.label})" if c.label else None) if w]
    return esc(" ".join(words))


def _pair(index: int, pair: ExamplePair, folder: str) -> str:
    p = f"review.top_pairs.{index}"
    rows = [
        [
            esc(c.comparison),
            _level(c),
            num(f"{p}.contributions.{k}.match_weight", c.match_weight, "float"),
        ]
        for k, c in enumerate(pair.contributions)
    ]
    rows.append(["<b>match weight</b>", "", num(f"{p}.match_weight", pair.match_weight, "float")])
    return (
        f"<details><summary>{esc(pair.record_id_l)} vs {esc(pair.record_id_r)}: probability "
        f"{num(f'{p}.match_probability', pair.match_probability, 'pct')}</summary>"
        f'<div class="scroll">{table(["Field", "Level", "Weight"], rows)}</div>'
        f'<p class="muted"><code>crmclean explain {esc(folder)} {esc(pair.record_id_l)} '
        f"{esc(pair.record_id_r)}</code> shows the values.</p></details>"
    )
