"""Survivorship: each strategy as a table of cases, lineage, keep_together, determinism."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from crmclean.config import load_rules
from crmclean.core.golden.survivorship import (
    Settings,
    SurvivorshipSpec,
    build_golden,
    check_setup,
    strategies,
)
from crmclean.errors import ConfigError

RECORDS = pl.DataFrame(
    {
        "record_id": ["1", "2", "3", "4"],
        "source": ["crm", "erp", "webshop", "crm"],
        "updated_at": ["2024-01-01", "2023-01-01", "2025-06-01", None],
        "name": ["Jo", "Joanna", "Jo", None],
        "email": [None, "bad@", "b@x.de", "c@x.de"],
        "street": ["Main 1", None, "Elm 2", "Oak 3"],
        "city": ["Berlin", "Bonn", None, "Köln"],
        "revenue": [10, 30, 20, None],
    }
)
MEMBERS = pl.DataFrame({"record_id": ["1", "2", "3", "4"], "golden_id": ["A", "A", "A", "B"]})


def golden(spec: dict[str, object], **kwargs: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    result = build_golden(
        RECORDS,
        MEMBERS,
        SurvivorshipSpec.model_validate(spec),
        source_column="source",
        updated_column="updated_at",
        **kwargs,  # type: ignore[arg-type]
    )
    return result.golden, result.lineage


def cell(frame: pl.DataFrame, golden_id: str, column: str) -> object:
    return frame.filter(pl.col("golden_id") == golden_id)[column].item()


@pytest.mark.parametrize(
    ("strategy", "column", "value", "record", "decided_by"),
    [
        ({"source_priority": ["erp", "crm", "webshop"]}, "name", "Joanna", "2", "source_priority"),
        ({"source_priority": ["webshop", "erp"]}, "name", "Jo", "3", "source_priority"),
        ({"most_recent": "updated_at"}, "city", "Berlin", "1", "most_recent"),
        ("most_recent", "name", "Jo", "3", "most_recent"),
        ("most_frequent", "name", "Jo", "1", "most_frequent"),
        ("longest", "name", "Joanna", "2", "longest"),
        ("max", "revenue", 30, "2", "max"),
        ("min", "revenue", 10, "1", "min"),
        ("first_non_null", "email", "bad@", "2", "first_non_null"),
        ("first", "city", "Berlin", "1", "first_non_null"),
    ],
)
def test_strategy_cases(
    strategy: object, column: str, value: object, record: str, decided_by: str
) -> None:
    frame, lineage = golden({"default": [strategy]})
    assert cell(frame, "A", column) == value
    row = lineage.filter((pl.col("golden_id") == "A") & (pl.col("column") == column))
    assert row["record_id"].item() == record
    assert row["strategy"].item() == decided_by


def test_nulls_never_win_and_all_null_is_marked() -> None:
    frame, lineage = golden({"default": [{"source_priority": ["erp"]}]})
    assert cell(frame, "A", "street") == "Main 1"  # erp has no street; a filled value wins
    row = lineage.filter((pl.col("golden_id") == "A") & (pl.col("column") == "street"))
    assert row["strategy"].item() == "only_value" or row["strategy"].item() == "tie_break"
    b_name = lineage.filter((pl.col("golden_id") == "B") & (pl.col("column") == "name"))
    assert b_name["strategy"].item() == "no_value"
    assert b_name["record_id"].item() is None


def test_most_complete_prefers_the_fuller_record() -> None:
    records = pl.DataFrame(
        {"record_id": ["1", "2"], "name": ["A", "B"], "phone": [None, "+4930123"]}
    )
    members = pl.DataFrame({"record_id": ["1", "2"], "golden_id": ["G", "G"]})
    spec = SurvivorshipSpec.model_validate({"default": ["most_complete"]})
    result = build_golden(records, members, spec)
    assert result.golden["name"].item() == "B"
    assert result.lineage.filter(pl.col("column") == "name")["strategy"].item() == "most_complete"


def test_members_that_agree_are_not_a_tie() -> None:
    records = pl.DataFrame({"record_id": ["1", "2", "3"], "city": ["Bonn", "Bonn", None]})
    members = pl.DataFrame({"record_id": ["1", "2", "3"], "golden_id": ["G", "G", "G"]})
    result = build_golden(records, members, SurvivorshipSpec.model_validate({"default": ["max"]}))
    assert result.lineage["strategy"].item() == "only_value"
    assert result.lineage["record_id"].item() == "1"


def test_valid_only_prefers_values_that_passed_checks() -> None:
    invalid = pl.DataFrame({"record_id": ["2"], "column": ["email"]})
    frame, lineage = golden({"default": ["valid_only", "first_non_null"]}, invalid=invalid)
    assert cell(frame, "A", "email") == "b@x.de"
    row = lineage.filter((pl.col("golden_id") == "A") & (pl.col("column") == "email"))
    assert row["strategy"].item() == "valid_only"


def test_ordered_list_falls_through_ties() -> None:
    spec = {"columns": {"name": [{"source_priority": ["crm", "webshop"]}, "most_recent"]}}
    frame, lineage = golden(spec)
    # crm (record 1) beats webshop (3); erp is unlisted and ranks last
    assert cell(frame, "A", "name") == "Jo"
    row = lineage.filter((pl.col("golden_id") == "A") & (pl.col("column") == "name"))
    assert (row["record_id"].item(), row["strategy"].item()) == ("1", "source_priority")


def test_keep_together_never_mixes_an_address() -> None:
    spec = {
        "default": ["first_non_null"],
        "keep_together": {
            "address": {"columns": ["street", "city"], "strategies": ["most_recent"]}
        },
    }
    frame, lineage = golden(spec)
    # most recent is record 3: its street with its (missing) city, never Berlin from record 1
    assert (cell(frame, "A", "street"), cell(frame, "A", "city")) == ("Elm 2", None)
    sources = lineage.filter(
        pl.col("column").is_in(["street", "city"]) & (pl.col("golden_id") == "A")
    )
    assert sources["record_id"].unique().to_list() == ["3"]


def test_lineage_covers_every_golden_cell_with_its_source_system() -> None:
    frame, lineage = golden({})
    columns = [c for c in frame.columns if c != "golden_id"]
    assert "source" not in columns and "record_id" not in columns
    assert lineage.height == frame.height * len(columns)
    joined = lineage.drop_nulls("record_id").join(
        RECORDS.select("record_id", "source"), on="record_id"
    )
    assert (joined["source_system"] == joined["source"]).all()


def test_singletons_keep_their_record() -> None:
    frame, lineage = golden({})
    expected = RECORDS.filter(pl.col("record_id") == "4").drop("record_id", "source")
    assert_frame_equal(frame.filter(pl.col("golden_id") == "B").drop("golden_id"), expected)
    assert set(lineage.filter(pl.col("golden_id") == "B")["strategy"]) == {
        "only_record",
        "no_value",
    }


def test_spec_errors_and_aliases() -> None:
    spec = SurvivorshipSpec.model_validate({"default": ["recent", {"source": ["erp"]}, "mode"]})
    assert [s.type for s in spec.default] == ["most_recent", "source_priority", "most_frequent"]
    with pytest.raises(ValidationError, match="one group"):
        SurvivorshipSpec.model_validate(
            {"keep_together": {"a": ["street", "city"], "b": ["city", "postcode"]}}
        )
    with pytest.raises(ValidationError):
        SurvivorshipSpec.model_validate({"default": ["most_recnet"]})
    assert "source_priority" in strategies


def test_check_setup_names_missing_columns() -> None:
    spec = SurvivorshipSpec.model_validate(
        {"columns": {"phone": ["max"]}, "default": ["most_recent"]}
    )
    problems = check_setup(Settings.of(spec), ["record_id", "name"])
    texts = [(p.path, p.problem) for p in problems]
    assert (("survivorship", "columns", "phone"), "no such column") in texts
    assert any("most_recent" in problem for _, problem in texts)


def test_deterministic_under_row_order() -> None:
    spec = {"default": ["most_frequent"]}
    forward, lf = golden(spec)
    shuffled = build_golden(
        RECORDS.reverse(),
        MEMBERS,
        SurvivorshipSpec.model_validate(spec),
        source_column="source",
        updated_column="updated_at",
    )
    assert_frame_equal(forward, shuffled.golden)
    assert_frame_equal(lf, shuffled.lineage)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["a", "bb", None]), st.integers(0, 3)),
        min_size=1,
        max_size=30,
    )
)
def test_one_golden_row_per_cluster_and_values_come_from_members(rows: list) -> None:
    records = pl.DataFrame(
        {
            "record_id": [str(i) for i in range(len(rows))],
            "name": [r[1] for r in rows],
            "score": [r[2] for r in rows],
        }
    )
    members = pl.DataFrame(
        {"record_id": records["record_id"], "golden_id": [f"G{r[0]}" for r in rows]}
    )
    result = build_golden(records, members, SurvivorshipSpec.model_validate({"default": ["max"]}))
    assert result.golden["golden_id"].to_list() == sorted(members["golden_id"].unique())
    picked = result.lineage.drop_nulls("record_id").join(
        members, on=["record_id", "golden_id"], how="anti"
    )
    assert picked.height == 0  # every surviving value came from a member of its golden record
    best = members.join(records, on="record_id").group_by("golden_id").agg(pl.col("score").max())
    got = result.golden.select("golden_id", "score").join(best, on="golden_id")
    assert (got["score"] == got["score_right"]).all()


def test_rule_file_errors_are_located(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\n"
        "survivorship:\n"
        "  default: [valid_only, most_recnet]\n"
        "  columns:\n"
        "    email: [{source_priority: erp}]\n"
        "  keep_together:\n"
        "    address: [street]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(rules)
    text = str(caught.value)
    assert f"{rules}:3:25 survivorship.default[1]: unknown type 'most_recnet'" in text
    assert "did you mean 'most_recent'" in text
    assert "survivorship.columns.email[0].source_priority: input should be a valid list" in text
    assert "survivorship.keep_together.address: list should have at least 2 items" in text
