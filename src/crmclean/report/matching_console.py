"""Console output of `dedupe`, `explain` and `evaluate`: rich tables built from result dicts.

Every function takes plain data (the dicts the commands also write as JSON), so the console and
`--format json` show the same figures.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def print_dedupe(console: Console, summary: dict[str, Any]) -> None:
    stats = summary["stats"]
    rules = Table(title="Blocking rules", title_justify="left")
    for name in ("rule", "pairs", "new pairs", "blocks", "largest block", "top block share"):
        rules.add_column(name, justify="left" if name == "rule" else "right")
    rules.add_column("skipped blocks (records)", justify="right")
    for rule in summary["blocking"]:
        skipped = ""
        if rule["skipped_blocks"]:
            sizes = ", ".join(str(n) for _, n in rule["skipped_examples"])
            skipped = f"{rule['skipped_blocks']} ({sizes})"
        rules.add_row(
            escape(rule["rule"]),
            _num(rule["pairs"]),
            _num(rule["new_pairs"]),
            _num(rule["blocks"]),
            _num(rule["largest_block"]),
            f"{rule['top_block_share']:.1%}",
            skipped,
        )
    console.print(rules)
    clustering = stats["clustering"]
    seconds = stats["seconds"]
    lines = [
        f"records {_num(stats['records'])}, candidate pairs {_num(stats['candidate_pairs'])}, "
        f"comparisons/s {_num(round(stats['comparisons_per_second']))}",
        f"pairs >= review {_num(stats['pairs_above_review'])}, "
        f">= auto_merge {_num(stats['pairs_above_auto_merge'])}, "
        f"cut by cluster guards (sent to review) {_num(stats['review_cut_edges'])}",
        f"clusters {_num(clustering['clusters'])} (singletons {_num(clustering['singletons'])}, "
        f"largest {clustering['largest_cluster']}, split {clustering['clusters_split']})",
        f"model: {'trained' if stats['trained'] else 'loaded'}, prior {summary['prior']:.3g}",
    ]
    recall = stats.get("blocking_recall")
    if recall:
        lines.append(
            f"blocking recall (estimated): {recall['estimated_recall']:.3f}, about "
            f"{_num(round(recall['estimated_missed_pairs']))} true pairs never compared"
        )
    lines += [
        "seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()),
    ]
    decisions = stats["decisions"]
    if decisions["must_link"] or decisions["cannot_link"] or decisions["unknown_ids"]:
        lines.append(
            f"decisions: {decisions['must_link']} match, {decisions['cannot_link']} no_match, "
            f"{decisions['unknown_ids']} naming unknown records, "
            f"{clustering['decision_conflicts']} conflicts"
        )
    for line in lines:
        console.print(line, markup=False)
    for warning in summary.get("warnings", []):
        console.print(f"warning: {warning}", markup=False)


def print_explain(console: Console, explanation: dict[str, Any]) -> None:
    title = escape(f"{explanation['record_id_l']} vs {explanation['record_id_r']}")
    table = Table(title=title, title_justify="left")
    for name in ("comparison", "left", "right", "level", "bayes factor (log2)"):
        table.add_column(name, justify="right" if name.startswith("bayes") else "left")
    for row in explanation["comparisons"]:
        table.add_row(
            row["name"],
            escape(_num(row["left"])),
            escape(_num(row["right"])),
            escape(f"{row['level']} (γ={row['gamma']})"),
            f"{row['bayes_factor']:+.2f}",
        )
    table.add_row("prior", "", "", "", f"{explanation['prior_weight']:+.2f}")
    if explanation.get("household_weight") is not None:
        table.add_row(
            "household",
            "",
            "",
            "different people of one household?",
            f"{explanation['household_weight']:+.2f}",
        )
    if explanation.get("blocked_weight") is not None:
        table.add_row(
            "blocked pairs",
            "",
            "",
            "no surer than among the pairs blocking finds",
            f"{explanation['blocked_weight']:+.2f}",
        )
    table.add_row("total", "", "", "", f"{explanation['match_weight']:+.2f}")
    console.print(table)
    console.print(
        f"match probability {explanation['match_probability']:.4f}; "
        f"blocking rules holding: {', '.join(explanation['blocking_rules']) or 'none'}",
        markup=False,
    )
    console.print(f"verdict: {explanation['verdict']}", markup=False)


def print_evaluation(console: Console, evaluation: dict[str, Any]) -> None:
    table = Table(title="Clusters against the truth", title_justify="left")
    for name in ("measure", "precision", "recall", "F1"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    for key in ("pairwise", "bcubed"):
        scores = evaluation[key]
        table.add_row(
            key, f"{scores['precision']:.4f}", f"{scores['recall']:.4f}", f"{scores['f1']:.4f}"
        )
    console.print(table)
    console.print(
        f"records {evaluation['records']:,}; true pairs {evaluation['true_pairs']:,}, "
        f"predicted {evaluation['predicted_pairs']:,}, correct {evaluation['correct_pairs']:,}; "
        f"missing from clusters {evaluation['missing_from_clusters']:,}, "
        f"from truth {evaluation['missing_from_truth']:,}",
        markup=False,
    )
