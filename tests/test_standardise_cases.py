"""Every standardiser and key step against its table in tests/cases/standardise/<step>.yaml.

A case has `input` (the column `value`), `expected`, optionally `row` (other columns), `step`
and `dataset` (overriding the file's), `outputs` (other columns the step fills) and `error` (a
substring of the reason the value could not be standardised; without it there must be none).
`derive: true` runs the step under `derive:` (key steps), else under `columns.value.standardise`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from crmclean.core.cleaning import clean
from crmclean.core.rules.rule_file import RuleFile
from crmclean.core.standardise import derive_steps

CASES = Path(__file__).parent / "cases" / "standardise"


def _tables() -> list[tuple[str, dict[str, Any]]]:
    return [
        (p.stem, yaml.safe_load(p.read_text(encoding="utf-8")))
        for p in sorted(CASES.glob("*.yaml"))
    ]


def _cases() -> list[Any]:
    return [
        pytest.param(table, case, id=f"{stem}: {case['name']}")
        for stem, table in _tables()
        for case in table["cases"]
    ]


def _step(table: dict[str, Any], case: dict[str, Any]) -> Any:
    return case.get("step", table["step"])


def _rules(table: dict[str, Any], case: dict[str, Any]) -> RuleFile:
    dataset = {**table.get("dataset", {}), **case.get("dataset", {})}
    step = _step(table, case)
    if case.get("derive", table.get("derive", False)):
        derive = {"key": {"from": "value", "steps": [step]}}
        return RuleFile.model_validate({"dataset": dataset, "derive": derive})
    columns = {"value": {"standardise": [step]}}
    return RuleFile.model_validate({"dataset": dataset, "columns": columns})


def _frame(case: dict[str, Any]) -> pl.DataFrame:
    row = {"value": case["input"], **case.get("row", {})}
    return pl.DataFrame(
        {"record_id": ["1"], **{k: [v] for k, v in row.items()}},
        schema_overrides=dict.fromkeys(row, pl.String),
    )


@pytest.mark.parametrize(("table", "case"), _cases())
def test_standardise_case(table: dict[str, Any], case: dict[str, Any]) -> None:
    derived = case.get("derive", table.get("derive", False))
    result = clean(_frame(case), _rules(table, case))
    column = "key" if derived else "value"
    assert result.frame.get_column(column).item() == case["expected"]
    for name, expected in case.get("outputs", {}).items():
        assert result.frame.get_column(name).item() == expected, name
    errors = result.changes.filter(pl.col("column") == "value").get_column("error").drop_nulls()
    if "error" in case:
        assert errors.len() == 1 and case["error"] in errors.item()
    else:
        assert errors.is_empty(), errors.to_list()
        if not derived and case["expected"] is not None:  # cleaning the cleaned value: no change
            again = clean(_frame({**case, "input": case["expected"]}), _rules(table, case))
            assert again.frame.get_column("value").item() == case["expected"]


def test_every_step_has_cases() -> None:
    used = set()
    for _, table in _tables():
        for case in table["cases"]:
            step = _step(table, case)
            used.add(derive_steps.canonical(step if isinstance(step, str) else step["type"]))
    assert set(derive_steps.names()) - used == set()
