"""Every check type against its table of pass/fail cases in tests/cases/checks/<type>.yaml.

A case gives `values` (one column named `value`) or `rows`, and `fail`: the 0-based rows that
must be reported, or `dataset` for a dataset-level violation. `check`/`dataset` override the
file's defaults; `level: dataset` puts the check under `checks:` instead of `columns.value`;
`standardise` gives `value` its standardise steps (for checks `on: standardised`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from crmclean.core.checks import checks
from crmclean.core.rules.rule_file import RuleFile
from crmclean.core.validation import validate

CASES = Path(__file__).parent / "cases" / "checks"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in table["cases"]:
            out.append(pytest.param(table, case, id=f"{path.stem}: {case['name']}"))
    return out


def _frame(case: dict[str, Any]) -> pl.DataFrame:
    rows = case.get("rows") or [{"value": v} for v in case["values"]]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    data = {c: [None if r.get(c) is None else str(r[c]) for r in rows] for c in columns}
    ids = [str(i) for i in range(len(rows))]
    return pl.DataFrame({"record_id": ids, **data}, schema_overrides=dict.fromkeys(data, pl.String))


def _rules(table: dict[str, Any], case: dict[str, Any]) -> RuleFile:
    check = case.get("check", table["check"])
    dataset = {**table.get("dataset", {}), **case.get("dataset", {})}
    if table.get("level") == "dataset":
        return RuleFile.model_validate({"dataset": dataset, "checks": [check]})
    column = {"checks": [check], "standardise": case.get("standardise", [])}
    return RuleFile.model_validate({"dataset": dataset, "columns": {"value": column}})


@pytest.mark.parametrize(("table", "case"), _cases())
def test_check_case(table: dict[str, Any], case: dict[str, Any]) -> None:
    frame = _frame(case)
    result = validate(frame, _rules(table, case), reference=case.get("reference"), now=NOW)
    found = result.violations.get_column("record_id").to_list()
    if case["fail"] == "dataset":
        assert found == [None]
    else:
        assert sorted(int(r) for r in found) == sorted(case["fail"])
    (rule,) = result.results
    assert rule.violations == len(found)


def test_every_check_type_has_a_case_table() -> None:
    tables = {p.stem for p in CASES.glob("*.yaml")}
    assert set(checks.names()) <= tables
