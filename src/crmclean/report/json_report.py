"""The validate report as JSON (schema_version 1, documented in docs/json-report.md).

The same document goes to stdout with --format json and into validate.json with --out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from crmclean.core.masking import MaskKind, cap_expr, mask_violations
from crmclean.core.validation import FailOn, ValidationResult
from crmclean.summaries import RuleOutcome, ValidateSummary, ValidateTotals
from crmclean.version import __version__

SCHEMA_VERSION = "1"  # crmclean.summaries.SCHEMA_VERSION
SAMPLES_PER_RULE = 5
SCORE_METHOD = (
    "100 x weighted mean of (1 - violating share) over rules that checked rows; "
    "weights error 3, warn 1, info 0"
)


@dataclass(frozen=True)
class RunFacts:
    """Where the run's data and rules came from, and how it was asked to judge."""

    input: Mapping[str, Any]  # ReadInfo.to_dict()
    rule_file: str
    rule_files: tuple[str, ...]
    rules_sha256: str
    started_at: datetime
    finished_at: datetime
    fail_on: FailOn = "error"
    show_values: bool = False


def overall_status(result: ValidationResult) -> str:
    counts = result.counts()
    return "fail" if counts["fail"] else ("warn" if counts["warn"] else "pass")


def samples(
    result: ValidationResult, pii: Mapping[str, MaskKind], show_values: bool, per_rule: int
) -> dict[str, list[dict[str, Any]]]:
    """The first violations of each rule, personal values masked unless show_values, every value
    cut to SHOWN_CHARS (violations.parquet keeps the whole value)."""
    if result.violations.is_empty():
        return {}
    head = result.violations.group_by("rule_id", maintain_order=True).head(per_rule)
    if not show_values:
        head = mask_violations(head, pii)
    out: dict[str, list[dict[str, Any]]] = {}
    for rule_id, group in head.partition_by("rule_id", as_dict=True).items():
        shown = group.select("record_id", cap_expr(pl.col("value")), cap_expr(pl.col("message")))
        out[str(rule_id[0])] = shown.to_dicts()
    return out


def build(
    result: ValidationResult,
    facts: RunFacts,
    pii: Mapping[str, MaskKind],
    per_rule: int = SAMPLES_PER_RULE,
) -> ValidateSummary:
    shown = samples(result, pii, facts.show_values, per_rule)
    counts = result.counts()
    return ValidateSummary(
        crmclean_version=__version__,
        started_at=facts.started_at.isoformat(timespec="seconds"),
        finished_at=facts.finished_at.isoformat(timespec="seconds"),
        input=dict(facts.input),
        rule_file=facts.rule_file,
        rule_files=list(facts.rule_files),
        rule_file_sha256=facts.rules_sha256,
        values_masked=not facts.show_values,
        pii=dict(sorted(pii.items())),
        results=[
            RuleOutcome.from_dict(
                {**r.to_dict(), "share": round(r.share, 6), "samples": shown.get(r.rule_id, [])}
            )
            for r in result.results
        ],
        summary=ValidateTotals(
            rows=result.rows,
            rules=len(result.results),
            passed=counts["pass"],
            warned=counts["warn"],
            failed=counts["fail"],
            violations=result.violations.height,
            records_with_violations=_records(result.violations),
            status=overall_status(result),
            fail_on=facts.fail_on,
            exit_code=result.exit_code(facts.fail_on),
        ),
        score=result.score,
        score_method=SCORE_METHOD,
    )


def _records(violations: pl.DataFrame) -> int:
    return int(violations.get_column("record_id").drop_nulls().n_unique())
