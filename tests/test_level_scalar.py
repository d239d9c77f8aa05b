"""The scalar twins of the comparison levels (core/matching/level_scalar.py) answer what the
vectorised levels answer: on every comparator case table and on generated pairs, for the rule
file's comparisons and one of each twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.config import load_rules
from crmclean.core.matching.comparators import build_level
from crmclean.core.matching.comparing import compare, used_columns
from crmclean.core.matching.level_scalar import (
    TWINS,
    NoTwin,
    comparison_test,
    level_test,
    record_row,
)
from crmclean.core.matching.spec import ComparisonSpec
from test_matching_comparators import _tables

RULES = Path(__file__).resolve().parents[1] / "rules" / "company.yaml"


@pytest.mark.parametrize(
    ("case_id", "level", "case"), _tables(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_twin_answers_the_case_tables(case_id: str, level: Any, case: dict[str, Any]) -> None:
    from crmclean.core.matching.comparators import PairValues

    spec = ComparisonSpec(name="t", column="v", levels=[level]).levels[0]
    test = level_test(spec, "v")
    if spec.type not in TWINS:
        assert test is None  # the frames answer: nothing to hold it to
        return
    assert test is not None
    left = {"v": case["left"], "w": case.get("left_other")}
    right = {"v": case["right"], "w": case.get("right_other")}
    frames = [
        pl.DataFrame([side], schema={"v": pl.String, "w": pl.String}) for side in (left, right)
    ]
    expected = bool(build_level(spec, "v")(PairValues(*frames))[0])
    try:
        got = test(left, right)
    except NoTwin:
        return  # a value only polars reads alike: the lookup compares through the frames
    assert got == expected


def _comparisons() -> list[ComparisonSpec]:
    spec = load_rules(RULES).rules.matching
    assert spec is not None
    extra = [
        {"name": "phon", "column": "a", "levels": ["null", {"type": "phonetic"}, "else"]},
        {
            "name": "cased",
            "column": "a",
            "levels": [
                {"type": "exact", "case_sensitive": True},
                {"type": "different", "case_sensitive": True, "column": "b"},
                {"type": "similarity", "metric": "damerau_levenshtein", "threshold": 2},
                {"type": "similarity", "metric": "partial_ratio", "threshold": 70},
                {"type": "swapped", "other": "b", "metric": "levenshtein", "threshold": 1},
            ],
        },
        {
            "name": "dates",
            "column": "d",
            "levels": ["date_swapped", {"type": "date_within", "days": 30}, "initial"],
        },
    ]
    return [*spec.comparisons, *(ComparisonSpec.model_validate(e) for e in extra)]


COMPARISONS = _comparisons()
COLUMNS = sorted({c for comparison in COMPARISONS for c in used_columns(comparison)})
_WORDS = ["", " ", "anna", "Anna", "ANNA", "ana", "hans", "hannes", "müller", "mueller", "j", "J.",
          "a b", "b a", "İstanbul", "ß", "12", "0151 1234", "015112345", "\u00a0x", "\x1cy",
          "2020-03-04", "2020-04-03", "2020-04-30", "2021-04-03", "2020-02-30", "0000-01-01",
          "2020-3-4", "1999-12-31T10:00", "hauptstr. 5", "hauptstrasse 5"]  # fmt: skip
_VALUE = st.one_of(st.none(), st.sampled_from(_WORDS), st.text(max_size=6))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(dict.fromkeys(COLUMNS, _VALUE)), min_size=2, max_size=6))
def test_a_pair_gets_the_gamma_compare_gives(records: list[dict[str, Any]]) -> None:
    """compare() on a frame of records (blank text missing, value codes, levels per distinct
    pair) against comparison_test on each pair of records."""
    frame = pl.DataFrame(records, schema=dict.fromkeys(COLUMNS, pl.String))
    left, right = np.triu_indices(len(records), k=1)
    pairs = pl.DataFrame(
        {"row_l": left, "row_r": right}, schema={"row_l": pl.UInt32, "row_r": pl.UInt32}
    )
    compared = compare(frame, pairs, COMPARISONS)
    rows = [record_row(r) for r in records]
    for comparison in COMPARISONS:
        gamma = comparison_test(comparison)
        assert gamma is not None, comparison.name
        expected = compared.get_column(f"gamma_{comparison.name}").to_list()
        for i, j, want in zip(left, right, expected, strict=True):
            try:
                got = gamma(rows[i], rows[j])
            except NoTwin:
                continue
            assert got == want, (comparison.name, records[i], records[j])


def test_a_comparison_with_a_level_without_twin_has_no_test() -> None:
    comparison = ComparisonSpec.model_validate(
        {"name": "n", "column": "a", "levels": ["nickname", "else"]}
    )
    assert comparison_test(comparison) is None
