"""The measure case tables (tests/cases/measures/*.yaml): one customer's movements and the value
its measure must have. Four other customers with one movement each give the scores their
quintiles; as_of is 2025-12-31."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from crmclean.core.value import RollupSpec, match_movements, measures, roll_up

CASES = Path(__file__).parent / "cases" / "measures"
OTHERS = [("o1", "2025-01-10"), ("o2", "2025-03-10"), ("o3", "2025-06-10"), ("o4", "2025-09-10")]
AS_OF = date(2025, 12, 31)


def cases() -> list[Any]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, case in enumerate(table["cases"]):
            measure = case.get("measure", table["measure"])
            out.append(pytest.param(measure, case, id=f"{path.stem}-{i}"))
    return out


def value_of(measure: Any, movements: list[list[Any]]) -> Any:
    own = [("a", m[0], m[1], m[2] if len(m) > 2 else None) for m in movements]
    table = pl.DataFrame(
        [*own, *[(c, d, "100", "p") for c, d in OTHERS]],
        schema={"cust": pl.String, "day": pl.String, "net": pl.String, "product": pl.String},
        orient="row",
    )
    spec = RollupSpec.model_validate(
        {
            "tables": {"t": {"file": "t.csv", "record_id": "cust", "date": "day", "amount": "net"}},
            "measures": {"m": measure},
        }
    )
    ids = ["a", *[c for c, _ in OTHERS]]
    kept = pl.DataFrame({"record_id": ids})
    matched = match_movements({"t": table}, spec, kept, kept.clear(), None)
    members = kept.with_columns(pl.format("G-{}", "record_id").alias("golden_id"))
    values = roll_up(matched, members, spec, as_of=AS_OF)
    return values.filter(pl.col("golden_id") == "G-a")["m"].item()


@pytest.mark.parametrize(("measure", "case"), cases())
def test_measure_case(measure: Any, case: dict[str, Any]) -> None:
    got = value_of(measure, case["movements"])
    expect = case["expect"]
    if isinstance(got, date):
        got = got.isoformat()
    if isinstance(expect, float):
        assert got == pytest.approx(expect)
    else:
        assert got == expect


def test_every_measure_has_a_case_table() -> None:
    assert {p.stem for p in CASES.glob("*.yaml")} == set(measures.names())
