"""A level other than the null level never holds on a missing value (issue 10, defect 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.core.matching.spec import ComparisonSpec
from engine_cases import ENGINES, gammas, level_holds

ROOT = Path(__file__).resolve().parents[1]
TABLE = yaml.safe_load(
    (ROOT / "tests" / "cases" / "missing_values" / "levels_on_another_column.yaml").read_text(
        encoding="utf-8"
    )
)
CASES = [(level, case) for level in TABLE["levels"] for case in TABLE["cases"]]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("level", "case"), CASES, ids=lambda v: json.dumps(v, sort_keys=True))
def test_no_level_holds_on_a_missing_value(
    engine: str, level: dict[str, Any], case: dict[str, Any]
) -> None:
    spec = ComparisonSpec(name="t", column="v", levels=[level]).levels[0]
    schema = {"v": pl.String, "w": pl.String}
    # v holds a value on both sides, so only the level's own column (w) can be missing;
    # blanks are missing too (value_codes turns them into nulls before levels run)
    left = pl.DataFrame({"v": ["x"], "w": [case["left"] or None]}, schema=schema)
    right = pl.DataFrame({"v": ["x"], "w": [case["right"] or None]}, schema=schema)
    assert level_holds(engine, spec, "v", left, right) == [case["holds"]]


@pytest.mark.parametrize("engine", ENGINES)
def test_two_records_without_phones_keep_their_postcode_evidence(engine: str) -> None:
    comparison = ComparisonSpec(
        name="contact",
        column="street",
        levels=[
            {"type": "null", "columns": ["street", "phone"]},
            {"type": "exact", "requires_equal": ["postcode"]},
            {"type": "similarity", "metric": "levenshtein", "threshold": 1, "column": "phone"},
            {"type": "exact", "column": "postcode"},
            "else",
        ],
    )
    schema = {"street": pl.String, "phone": pl.String, "postcode": pl.String}
    left = pl.DataFrame(
        {"street": ["a 1", "a 1"], "phone": [None, "123"], "postcode": ["10115", "10115"]},
        schema=schema,
    )
    right = pl.DataFrame(
        {"street": ["b 2", "b 2"], "phone": [None, "124"], "postcode": ["10115", "99999"]},
        schema=schema,
    )
    # phones missing: "same postcode" (gamma 1), not "phone one edit apart" (gamma 2)
    assert gammas(engine, comparison, left, right) == [1, 2]


def test_dedupe_scores_missing_phones_by_their_postcode(tmp_path: Path) -> None:
    data = tmp_path / "c.csv"
    data.write_text(
        "customer_id,source_system,salutation,first_name,last_name,company,email,phone,street,"
        "postcode,city,country,date_of_birth,created_at,updated_at\n"
        "A1,crm,,Anna,Meier,,anna@x.de,,Hauptstr. 1,10115,Berlin,DE,,2020-01-01,2020-01-01\n"
        "A2,erp,,Anna,Meier,,anna@x.de,,Lindenweg 7,10115,Berlin,DE,,2020-01-01,2020-01-01\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {ROOT / 'rules' / 'company.yaml'}\n"
        "matching:\n  blocking: [[email_key]]\n  thresholds: {auto_merge: 0.9, review: 0.01}\n"
        "  comparisons:\n"
        "    - name: contact\n      column: street\n      levels:\n"
        "        - {type: null, columns: [street, phone]}\n"
        "        - {type: exact, requires_equal: [postcode_key]}\n"
        "        - {type: similarity, metric: levenshtein, threshold: 1, column: phone,"
        " label: phone one edit apart}\n"
        "        - {type: exact, column: postcode_key, label: same postcode}\n"
        "        - else\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(rules), "--out", str(tmp_path / "o"), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    pairs = pl.read_parquet(tmp_path / "o" / "pairs.parquet")
    assert pairs.get_column("gamma_contact").to_list() == [1]  # same postcode
