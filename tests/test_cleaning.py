"""`clean()`: the changes frame, step statistics, derived columns and setup problems."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmclean.core.cleaning import clean, setup_problems
from crmclean.core.contracts import CHANGES_SCHEMA
from crmclean.core.rules.rule_file import RuleFile
from crmclean.errors import ConfigError

RULES = RuleFile.model_validate(
    {
        "dataset": {"country_column": "country"},
        "columns": {
            "name": {"standardise": ["trim", "null_tokens", "person_name"]},
            "phone": {"standardise": [{"type": "phone", "extension_column": "ext"}]},
            "country": {"standardise": ["country"]},
        },
        "derive": {
            "full": {"from": ["name", "country"], "separator": "|"},
            "name_key": {"from": "name", "steps": ["ascii", "lower"]},
            "name_initial": {"from": "name_key", "steps": ["initial"]},
        },
    }
)
FRAME = pl.DataFrame(
    {
        "record_id": ["a", "b", "c"],
        "name": ["  jürgen MÜLLER ", "N/A", "Ann"],
        "phone": ["030 1234567 ext. 7", "nonsense", None],
        "country": ["Deutschland", "UK", None],
    }
)


def test_changes_record_every_changed_cell_per_step() -> None:
    result = clean(FRAME, RULES)
    assert result.changes.schema == pl.Schema(CHANGES_SCHEMA)
    expected = pl.DataFrame(
        {
            "record_id": ["a", "b", "a", "a", "a", "b", "a", "b"],
            "column": ["country", "country", "name", "name", "ext", "name", "phone", "phone"],
            "before": ["Deutschland", "UK", "  jürgen MÜLLER ", "jürgen MÜLLER", None, "N/A",
                       "030 1234567 ext. 7", "nonsense"],
            "after": ["DE", "GB", "jürgen MÜLLER", "Jürgen Müller", "7", None, "+49301234567",
                      "nonsense"],
            "step": ["country", "country", "trim", "person_name", "phone", "null_tokens",
                     "phone", "phone"],
        }
    )  # fmt: skip
    got = result.changes
    keys = ["column", "step", "record_id"]
    assert_frame_equal(got.drop("error").sort(keys), expected.sort(keys), check_column_order=False)
    failed = result.changes.filter(pl.col("error").is_not_null())
    assert failed.select("record_id", "column").rows() == [("b", "phone")]


def test_outputs_and_derived_columns() -> None:
    frame = clean(FRAME, RULES).frame
    assert frame.columns[:4] == ["record_id", "name", "phone", "country"]
    assert frame["ext"].to_list() == ["7", None, None]
    assert frame["full"].to_list() == ["Jürgen Müller|DE", "GB", "Ann"]
    assert frame["name_key"].to_list() == ["juergen mueller", None, "ann"]
    assert frame["name_initial"].to_list() == ["J", None, "A"]


def test_step_stats_count_changes_failures_and_distinct_inputs() -> None:
    stats = clean(FRAME, RULES).step_stats
    phone = stats.filter(pl.col("step") == "phone").row(0, named=True)
    assert (phone["rows"], phone["changed"], phone["failed"], phone["unique_inputs"]) == (
        3,
        1,
        1,
        2,
    )
    assert stats.filter(pl.col("column") == "name_initial").height == 1


def test_record_ids_are_row_numbers_when_missing() -> None:
    result = clean(FRAME.drop("record_id"), RULES)
    assert result.frame["record_id"].to_list() == ["1", "2", "3"]


def test_missing_columns_are_setup_problems() -> None:
    problems = setup_problems(RULES, ["record_id", "name", "country"])
    assert [p.path for p in problems] == [("columns", "phone")]
    with pytest.raises(ConfigError, match="column 'phone' is not in the data"):
        clean(FRAME.drop("phone"), RULES)
