"""Typed summaries for hand-made outputs folders (report tests): what the commands write,
with plain defaults, so a test states only what it is about."""

from __future__ import annotations

from typing import Any

from crmclean.summaries import (
    CleanSummary,
    DedupeSummary,
    RuleOutcome,
    RunManifest,
    ValidateSummary,
    ValidateTotals,
)

WHEN = "2026-11-23T10:00:00+00:00"


def rule(rule_id: str, **fields: Any) -> RuleOutcome:
    base: dict[str, Any] = {
        "rule_id": rule_id, "check": rule_id.rsplit(".", maxsplit=1)[-1],
        "column": rule_id.split(".", maxsplit=1)[0],
        "severity": "error", "checked": 10, "violations": 0, "share": 0.0, "threshold": 0.0,
        "status": "pass",
    }  # fmt: skip
    return RuleOutcome.from_dict({**base, **fields})


def validate(
    rows: int, results: list[RuleOutcome], exit_code: int = 1, **fields: Any
) -> dict[str, Any]:
    failed = sum(r.status == "fail" for r in results)
    warned = sum(r.status == "warn" for r in results)
    totals = ValidateTotals(
        rows=rows, rules=len(results), passed=len(results) - failed - warned, warned=warned,
        failed=failed, violations=sum(r.violations for r in results), records_with_violations=0,
        status="fail" if failed else ("warn" if warned else "pass"), fail_on="error",
        exit_code=exit_code,
    )  # fmt: skip
    base: dict[str, Any] = {
        "crmclean_version": "0.1.0", "started_at": WHEN, "finished_at": WHEN,
        "input": {"path": "customers.csv", "rows": rows}, "rule_file": "rules/company.yaml",
        "rule_files": ["rules/company.yaml"], "rule_file_sha256": "0" * 64,
        "values_masked": False, "pii": {}, "results": results, "summary": totals,
        "score": 100.0, "score_method": "test",
    }  # fmt: skip
    return ValidateSummary(**{**base, **fields}).to_dict()


def clean(rows: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "input": {"path": "customers.csv", "rows": rows}, "rule_file": "rules/company.yaml",
        "rules_sha256": "0" * 64, "started_at": WHEN, "finished_at": WHEN, "dry_run": False,
        "rows": rows, "columns": [], "changed_cells": 0, "changes": 0, "failures": 0,
        "per_column": {}, "steps": [], "slow_parsers": [],
    }  # fmt: skip
    return CleanSummary(**{**base, **fields}).to_dict()


def dedupe(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rule_file": "rules/company.yaml", "rules_digest": "0" * 64,
        "thresholds": {"review": 0.5, "auto_merge": 0.95}, "prior": 0.01, "fingerprint": "f",
        "pii": {}, "matching": {}, "blocking": [], "stats": {}, "warnings": [],
    }  # fmt: skip
    return DedupeSummary(**{**base, **fields}).to_dict()


def run(n: int, exit_code: int = 1, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "crmclean_version": "0.1.0", "started_at": WHEN, "finished_at": WHEN,
        "rule_file": "rules/company.yaml", "rule_files": ["rules/company.yaml"],
        "rule_file_sha256": "0" * 64, "inputs": [{"path": "customers.csv", "rows": n}],
        "previous": None, "seed": 42, "rows": {"input": n, "matched": n, "quarantined": 0},
        "rows_add_up": True, "changes_since_previous": {}, "golden_ids": {}, "thresholds": {},
        "pii_columns": [], "exit_code": exit_code, "exit_status": "data failed",
    }  # fmt: skip
    return RunManifest(**{**base, **fields}).to_dict()
